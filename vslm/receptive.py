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

from .rundir import atomic_write  # noqa: E402


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


def receptive_field_figure(path_png: Path, size: int = 100) -> None:
    setups = [(7, [1, 1, 1], "ks 7, dilation 1,1,1 (radius 9)"), (13, [5, 7, 1], "ks 13, dilation 5,7,1 (radius 78)")]
    fig, axes = plt.subplots(len(setups), 1, figsize=(10, 1.6 * len(setups)))
    for ax, (ks, dil, title) in zip(axes, setups):
        ax.imshow(impulse_rows(ks, dil, size).numpy(), aspect="auto", interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_yticks(range(len(dil) + 1), ["input"] + [f"layer {i + 1}" for i in range(len(dil))], fontsize=7)
        ax.set_xticks([])
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, dpi=100)
    plt.close(fig)
    atomic_write(Path(path_png), buf.getvalue())
