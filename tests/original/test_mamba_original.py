"""Side by side with the original's Mamba class (defgsus/nn-experiments @193ed2c, a copy of
mamba-minimal), imported from that commit's files in `$VSLM_ORIGINAL/193ed2c` (needs einops).
Skipped elsewhere: the original code is not part of this repository.

    mkdir -p /tmp/orig/193ed2c
    git -C nn-experiments archive 193ed2c src/models/mamba | tar -x -C /tmp/orig/193ed2c
    VSLM_ORIGINAL=/tmp/orig python3 -m pytest tests/original
"""
import pytest
import torch
import torch.nn.functional as F
from conftest import has_original, import_original, lock_step

from vslm.models import build_model
from vslm.settings import resolve
from vslm.tasks import validation_set
from vslm.train import to_batch

pytestmark = pytest.mark.skipif(not has_original("193ed2c", "src/models/mamba/mamba.py"),
                                reason="VSLM_ORIGINAL has no 193ed2c/ with the original's Mamba")
SETTINGS = dict(task="program", nops="2,5", model="mamba", l=6, ch=32, d_state=16, **{"val-nops": 5})


def models(scan: str):
    pytest.importorskip("einops")
    (mamba,) = import_original("193ed2c", "src.models.mamba.mamba")
    Mamba, ModelArgs = mamba.Mamba, mamba.ModelArgs

    torch.manual_seed(0)
    ours = build_model(resolve(dict(SETTINGS, scan=scan))).double()
    orig = Mamba(ModelArgs(d_model=32, n_layer=6, d_state=16, expand=2, vocab_size=256)).double()
    orig.load_state_dict(ours.state_dict(), strict=False)  # same names; lm_head is tied to the embedding
    return ours, orig


def loss(model, target, masked):
    return F.cross_entropy(model(masked).reshape(-1, 256), target.reshape(-1))


@pytest.mark.parametrize("scan", ["sequential", "fused"])
def test_same_weights_same_outputs_and_gradients(scan):
    ours, orig = models(scan)
    target, masked = to_batch(validation_set(resolve(SETTINGS)).take(slice(0, 64)), "cpu")
    assert (ours(masked) - orig(masked)).abs().max() < 1e-8
    g1 = dict(zip(dict(ours.named_parameters()), torch.autograd.grad(loss(ours, target, masked), ours.parameters())))
    g2 = dict(zip(dict(orig.named_parameters()), torch.autograd.grad(loss(orig, target, masked), orig.parameters())))
    assert max((g1[k] - g2[k]).abs().max().item() for k in g2) < 1e-8


def test_lock_step_training_stays_together():
    """The same batches through AdamW: after 20 steps the weights agree to float64 rounding."""
    ours, orig = models("fused")
    lock_step(ours, orig, resolve(SETTINGS), loss)
    w2 = dict(orig.named_parameters())
    assert max((p - w2[k]).abs().max().item() for k, p in ours.named_parameters()) < 1e-7
