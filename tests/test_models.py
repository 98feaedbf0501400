"""Models: parameter counts of every reference table, settings validation, shapes and causality."""
from pathlib import Path

import pandas as pd
import pytest
import torch

from vslm.cli import main
from vslm.config import load
from vslm.models import build_model, count_params
from vslm.models.attention import linear_attention
from vslm.paths import REFERENCE_DIR
from vslm.reference import match_reference, reference_names, reference_rows
from vslm.settings import SettingsError, resolve

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load(ROOT / "config.yaml", scale="paper")


def _params(value: str) -> int:
    return int(str(value).replace(",", ""))


@pytest.mark.parametrize("name", [n for n in CONFIG if reference_names(CONFIG[n].spec)])
def test_param_counts_match_reference_tables(name):
    exp = CONFIG[name]
    ref = reference_rows(exp, ROOT)
    matched = set()
    for cell in exp.cells:
        for run in cell.runs:
            settings = run.settings
            row = match_reference(ref, exp, settings)
            if row is None:
                continue
            matched.add(tuple(row.values()))
            assert count_params(build_model(settings)) == _params(row["model params"]), (name, cell.values)
    first = reference_names(exp.spec)[0]  # further tables only lend rows
    assert len(matched) >= len(pd.read_csv(ROOT / REFERENCE_DIR / first))  # every reference row is a run of ours


@pytest.mark.parametrize("table", ["S2-T5.csv", "S2-T6.csv"])
def test_buggy_tables_counts_are_plain_qk_models(table):
    """S2-T5/T6 ran every row as QK (the original's bug): their counts are those of QK models."""
    for _, row in pd.read_csv(ROOT / REFERENCE_DIR / table, dtype=str, keep_default_na=False).iterrows():
        attn = row["attn"].replace("True", "T")
        s = resolve(dict(l=3, ch=64, ks=13, dil="3,5,1", attn=attn, qkv="QK"))
        assert count_params(build_model(s)) == _params(row["model params"])


@pytest.mark.parametrize("raw, key", [
    (dict(l=3, attn="0,T"), "attn"), (dict(l=3, dil="1,2"), "dil"), (dict(qkv="QQ"), "qkv"),
    (dict(attnact="relu"), "attnact"), (dict(attn="0,0,0,0,0,5"), "attn"), (dict(ch=0), "ch"),
    (dict(ks=-3), "ks"), (dict(model="gru"), "model"), (dict(model="lstm", ks=3), "ks"),
    (dict(l="x"), "l"), (dict(lr="fast"), "lr"),
])
def test_bad_model_settings_name_key(raw, key):
    with pytest.raises(SettingsError) as e:
        resolve(raw)
    assert e.value.key == key


def test_cli_params(capsys):
    assert main(["params", "model=conv", "l=3", "ch=64", "ks=13", "dil=3,5,1", "attn=0,0,T", "qkv=QK"]) == 0
    assert capsys.readouterr().out.strip() == "229632"
    assert main(["params", "model=mamba"]) == 0
    assert capsys.readouterr().out.strip() == "67936"
    assert main(["params", "model=conv", "l=3", "attn=0,0"]) == 2
    assert "attn=0,0" in capsys.readouterr().err


def test_linear_attention_formula():
    q, k, v = torch.randn(2, 7, 4), torch.randn(2, 7, 4), torch.randn(2, 7, 4)
    phi = lambda x: torch.nn.functional.elu(x) + 1  # noqa: E731
    expected = torch.einsum("blc,bmc,bmd->bld", phi(q), phi(k), v) / (4 * 7)
    assert torch.allclose(linear_attention(q, k, v, "elu+1"), expected, atol=1e-5)
    assert linear_attention(q, k, v, "dpfp").shape == (2, 7, 4)


@pytest.mark.parametrize("raw, causal", [
    (dict(model="conv", l=3, ks=5, attn="0,0,T"), False), (dict(model="conv", l=2, attn="0,4"), False),
    (dict(model="lstm", l=2, ch=16), True), (dict(model="mamba", l=2, ch=16), True),
])
def test_shapes_and_causality(raw, causal):
    torch.manual_seed(0)
    model = build_model(resolve(raw)).eval()
    x = torch.randint(0, 256, (2, 30))
    y = model(x)
    assert y.shape == (2, 30, 256)
    x2 = x.clone()
    x2[:, 20] = (x2[:, 20] + 1) % 256
    changed_before = (model(x2)[:, :20] - y[:, :20]).abs().max().item() > 1e-6
    assert changed_before is not causal


def test_diagonal_embedding_and_batchnorm_layout():
    m = build_model(resolve(dict(task="selcopy", model="conv", l=3, ch=256, ks=7, norm="bn", embedding="diagonal")))
    assert torch.equal(m.embedding.weight, torch.eye(256))
    assert [layer.norm is not None for layer in m.layers] == [True, True, False]


def test_mamba_dt_init_switch():
    torch.manual_seed(0)
    orig = build_model(resolve(dict(model="mamba"))).layers[0].mixer.dt_proj.bias
    official = build_model(resolve(dict(model="mamba", dtinit="mamba"))).layers[0].mixer.dt_proj.bias
    dt = torch.nn.functional.softplus(official)
    assert dt.min() >= 1e-4 - 1e-7 and dt.max() <= 0.1 + 1e-6
    assert torch.nn.functional.softplus(orig).min() > 0.1  # torch default: bias ~ U(-1/sqrt(2), 1/sqrt(2))


@pytest.mark.parametrize("impl", ["native", "pytorch"])
def test_fused_mamba_scan_equals_sequential_reference(impl):
    from vslm.models.mamba import FusedScan, native_kernel, scan_fused, scan_sequential

    if impl == "native":
        assert native_kernel() is not None  # the C++ kernel builds here (gcc + ninja)
    fused = scan_fused if impl == "native" else FusedScan.apply

    gen = torch.Generator().manual_seed(0)
    b, L, d, n = 3, 13, 5, 4

    def r(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    args = [r(b, L, d), torch.nn.functional.softplus(3 * r(b, L, d)), -torch.exp(r(d, n)), r(b, L, n), r(b, L, n), r(d)]
    args = [a.requires_grad_() for a in args]
    assert torch.autograd.gradcheck(fused, args)
    y_ref, y = scan_sequential(*args), fused(*args)
    assert torch.allclose(y, y_ref, rtol=1e-10, atol=1e-10)
    g = r(b, L, d)
    for a, b_ in zip(torch.autograd.grad(y_ref, args, g), torch.autograd.grad(y, args, g)):
        assert torch.allclose(a, b_, rtol=1e-9, atol=1e-9)
