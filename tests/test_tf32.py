"""The tf32 precision: operands rounded as cuDNN's TF32 does (10-bit mantissa, ties to even), checked
against a hand-rounded float64 reference, forward and both backward convolutions; off by default."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vslm.train as train_mod
from vslm.models import build_model
from vslm.settings import resolve, run_key
from vslm.tf32 import TF32Conv1d, round_tf32, use_tf32_convs


def by_hand(x: torch.Tensor) -> torch.Tensor:
    """The nearest value with an 11-bit significand (10 stored bits), ties to even, in float64."""
    m, e = np.frexp(x.double().numpy())
    return torch.from_numpy(np.ldexp(np.round(m * 2.0 ** 11) / 2.0 ** 11, e))  # np.round: half to even


def test_rounding_matches_the_hand_rounded_values_and_ties_go_to_even():
    x = torch.randn(50_000) * torch.logspace(-20, 20, 50_000)
    assert torch.equal(round_tf32(x).double(), by_hand(x))
    one = torch.tensor([1.0], dtype=torch.float32).view(torch.int32)
    ties = torch.cat([one + (1 << 12), one + (1 << 13) + (1 << 12)]).view(torch.float32)  # exactly half-way
    assert round_tf32(ties).tolist() == [1.0, 1.0 + 2 * 2.0 ** -10]
    assert torch.isinf(round_tf32(torch.tensor([float("inf")]))).all()


def test_the_conv_and_its_gradients_see_tf32_operands():
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(8, 16, 5, dilation=2, padding=4)
    x = torch.randn(3, 8, 40, requires_grad=True)
    g = torch.randn(3, 16, 40)
    use_tf32_convs(conv)
    assert type(conv) is TF32Conv1d
    y = conv(x)
    y.backward(g)
    xr, wr, gr = (by_hand(t.detach()) for t in (x, conv.weight, g))
    x64, w64 = x.detach().double().requires_grad_(), conv.weight.detach().double().requires_grad_()
    ref = F.conv1d(xr, wr, conv.bias.detach().double(), padding=4, dilation=2)
    assert torch.allclose(y.double(), ref, rtol=1e-5, atol=1e-5)
    (F.conv1d(x64, wr, None, padding=4, dilation=2) * gr).sum().backward()  # grad input: rounded weight and grad
    (F.conv1d(xr, w64, None, padding=4, dilation=2) * gr).sum().backward()  # grad weight: rounded input and grad
    assert torch.allclose(x.grad.double(), x64.grad, rtol=1e-5, atol=1e-5)
    assert torch.allclose(conv.weight.grad.double(), w64.grad, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(x.grad, torch.autograd.grad(F.conv1d(x, conv.weight, None, padding=4, dilation=2),
                                                          x, g)[0], rtol=0, atol=0)


def test_tf32_is_off_by_default_and_its_own_run():
    base = dict(task="selcopy", l=6, dil="1,2,3,4,5,1")
    assert resolve(base)["precision"] == "fp32"
    assert run_key(resolve(base)) != run_key(resolve(dict(base, precision="tf32")))
    model = build_model(resolve(base))
    assert not any(isinstance(m, TF32Conv1d) for m in model.modules())


def test_a_tf32_run_trains_close_to_fp32_but_not_equal(tmp_path):
    """Same seed, same initial weights: the rounding moves the result a little, not much."""
    tiny = dict(task="program", len=3, nops=1, l=2, ch=16, ks=5, samples=1536, epoch=1024, threads=1,
                progress=False, **{"val-every": 512, "val-count": 256})
    fp32 = train_mod.run(resolve(tiny), tmp_path / "a")["metrics"]["validation_loss"]
    tf32 = train_mod.run(resolve(dict(tiny, precision="tf32")), tmp_path / "b")["metrics"]["validation_loss"]
    assert tf32 != fp32 and tf32 == pytest.approx(fp32, rel=0.05)
