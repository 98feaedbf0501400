"""Error curves per experiment: validation mask and sample error against training samples,
one line per cell (mean over trials), the trials' min-max as a band. Deterministic output."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .curves import read_curve  # noqa: E402
from .experiments import Experiment, cell_label  # noqa: E402
from .rundir import atomic_write  # noqa: E402

plt.rcParams["svg.hashsalt"] = "vslm"
PANELS = [("mask_error%", "validation mask error %"), ("sample_error%", "validation sample error %")]
MAX_LINES = 8  # per panel; more cells are split into rows of panels


def _lines(exp: Experiment) -> list[tuple[str, list[str]]]:
    """(label, run keys) per line: one per cell (mean over trials), or one per run for tables of
    individual trials."""
    if exp.spec.get("per_trial"):
        return [(f"{cell_label(c)} trial {r.trial}", [r.key]) for c in exp.cells for r in c.runs]
    return [(cell_label(c), [r.key for r in c.runs]) for c in exp.cells]


def _groups(exp: Experiment, lines: list) -> list[list]:
    """Lines split into panels of at most MAX_LINES: by the config's `plot_group` setting where
    given (e.g. nops), else in table order."""
    key = exp.spec.get("plot_group")
    if key:
        by = {}
        for (label, keys), cell in zip(lines, exp.cells):
            by.setdefault(str(cell.values.get(key)), []).append((label, keys))
        groups = list(by.values())
    else:
        groups = [lines]
    return [g[i:i + MAX_LINES] for g in groups for i in range(0, len(g), MAX_LINES)]


def plot_experiment(exp: Experiment, png: Path, svg: Path, root: Path = Path(".")) -> None:
    """Validation mask and sample error (fixed 0-100 % axes) against training samples; one row
    of two panels per group of at most MAX_LINES lines, legends beside the panels."""
    groups = _groups(exp, _lines(exp))
    fig, axes = plt.subplots(len(groups), 2, figsize=(13, 3.4 * len(groups)), sharex=True, squeeze=False)
    for row, group in zip(axes, groups):
        colors = plt.cm.tab10(np.arange(len(group)) % 10)
        for (label, keys), color in zip(group, colors):
            curves = [c for c in (read_curve(k, root) for k in keys) if c is not None and len(c)]
            if not curves:
                continue
            for ax, (col, _) in zip(row, PANELS):
                joined = pd.concat([c.set_index("samples")[col] for c in curves], axis=1).dropna()
                x = joined.index.to_numpy()
                ax.plot(x, joined.mean(axis=1), color=color, lw=1.2, marker="o", ms=2.5, label=label)
                if joined.shape[1] > 1:
                    ax.fill_between(x, joined.min(axis=1), joined.max(axis=1), color=color, alpha=0.2, lw=0)
        for ax, (_, title) in zip(row, PANELS):
            ax.set_title(title, fontsize=9)
            ax.set_ylim(0, 100)
            ax.grid(alpha=0.3)
        handles, labels = row[0].get_legend_handles_labels()
        if handles:
            row[1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7,
                          frameon=False)
    for ax in axes[-1]:
        ax.set_xlabel("training samples")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x / 1e6:g}M"))
    fig.suptitle(f"{exp.name}: {exp.spec['title']} (error axes fixed at 0-100 %)")
    fig.tight_layout()
    for path, fmt, meta in ((png, "png", {"Software": None}), (svg, "svg", {"Date": None})):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata=meta, bbox_inches="tight", dpi=90)
        atomic_write(Path(path), buf.getvalue())
    plt.close(fig)
