"""The receptive-field diagram of the write-up: an impulse passed through stacked dilated
convolutions (bias-free, weights 0.5*U[0,1) from seed 23, no activation); each row shows
|activation| clamped to [0, 1] as RGB, the input on top and one row per layer."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from .files import atomic_write  # noqa: E402


@torch.no_grad()
def impulse_rows(ks: int, dil: list[int], size: int, from_left: bool = False) -> torch.Tensor:
    """-> [layers + 1, size, 3] activations of an impulse at the centre (or position 0)."""
    gen = torch.Generator().manual_seed(23)
    x = torch.zeros(1, 3, size)
    x[0, :, 0 if from_left else size // 2] = 1
    rows = [x[0].T.abs().clamp(0, 1)]
    for d in dil:
        conv = torch.nn.Conv1d(3, 3, ks, dilation=d, padding=(ks // 2) * d, bias=False)
        conv.weight.copy_(0.5 * torch.rand(conv.weight.shape, generator=gen))
        x = conv(x)
        rows.append(x[0].T.abs().clamp(0, 1))
    return torch.stack(rows)


def radius(ks: int, dil: list[int]) -> int:
    """How many cells to each side a stack of convolutions sees."""
    return sum((ks // 2) * d for d in dil)


def receptive_field_figure(path_png: Path, setups=((7, [1, 1, 1]), (13, [5, 7, 1])), area: int = 40) -> None:
    """Each setup on one row, wide enough for its whole field; the selective-copying area is marked."""
    size = 2 * max(radius(ks, dil) for ks, dil in setups) + 11
    fig, axes = plt.subplots(len(setups), 1, figsize=(12, 1.6 * len(setups)))
    for ax, (ks, dil) in zip(axes, setups):
        ax.imshow(impulse_rows(ks, dil, size).numpy(), aspect="auto", interpolation="nearest")
        ax.axvspan(size // 2 - area / 2, size // 2 + area / 2, fill=False, ec="white", ls="--", lw=0.8)
        ax.set_title(f"ks {ks}, dilation {','.join(map(str, dil))}: radius {radius(ks, dil)} cells "
                     f"(dashed: a {area}-cell area)", fontsize=9)
        ax.set_yticks(range(len(dil) + 1), ["input"] + [f"layer {i + 1}" for i in range(len(dil))], fontsize=7)
        ax.set_xticks([])
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, dpi=100)
    plt.close(fig)
    atomic_write(Path(path_png), buf.getvalue())
