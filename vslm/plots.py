"""Error curves per experiment: validation mask and sample error against training samples,
one line per cell (mean over trials), the trials' min-max as a band. Deterministic output."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .experiments import Experiment, cell_label  # noqa: E402
from .paths import RUNS_DIR
from .rundir import atomic_write  # noqa: E402

plt.rcParams["svg.hashsalt"] = "vslm"
PANELS = [("mask_error%", "validation mask error %"), ("sample_error%", "validation sample error %")]


def read_curve(key: str, root: Path = Path(".")) -> pd.DataFrame | None:
    path = root / RUNS_DIR / key / "curve.csv"
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return None
    return frame[frame["split"] == "validation"] if "split" in frame else None


def plot_experiment(exp: Experiment, png: Path, svg: Path, root: Path = Path(".")) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    colors = plt.cm.viridis(np.linspace(0, 0.95, max(1, len(exp.cells))))
    for cell, color in zip(exp.cells, colors):
        curves = [c for c in (read_curve(run.key, root) for run in cell.runs) if c is not None and len(c)]
        if not curves:
            continue
        for ax, (col, _) in zip(axes, PANELS):
            joined = pd.concat([c.set_index("samples")[col] for c in curves], axis=1).dropna()
            x = joined.index.to_numpy()
            ax.plot(x, joined.mean(axis=1), color=color, lw=1.2, marker="o", ms=2.5, label=cell_label(cell))
            if joined.shape[1] > 1:
                ax.fill_between(x, joined.min(axis=1), joined.max(axis=1), color=color, alpha=0.2, lw=0)
    for ax, (_, title) in zip(axes, PANELS):
        ax.set_title(title)
        ax.set_xlabel("training samples")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, frameon=False)
    fig.suptitle(f"{exp.name}: {exp.spec['title']}")
    fig.tight_layout()
    for path, fmt, meta in ((png, "png", {"Software": None}), (svg, "svg", {"Date": None})):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata=meta, bbox_inches="tight", dpi=100)
        atomic_write(Path(path), buf.getvalue())
    plt.close(fig)
