"""Curves per experiment: validation loss (log axis), mask and sample error (logit axis, so 0.01 %
and 1 % stand apart) against training samples, one line per cell (mean over trials), the trials'
min-max as a band, the original's final value as a star at its budget. Deterministic output."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .columns import METRICS  # noqa: E402
from .curves import read_curve  # noqa: E402
from .experiments import Experiment, cell_label  # noqa: E402
from .files import atomic_write  # noqa: E402
from .settings import format_samples  # noqa: E402
from .tables import Table  # noqa: E402

plt.rcParams["svg.hashsalt"] = "vslm"
PANELS = [("loss", "validation loss (log axis)", "validation_loss"),
          ("mask_error%", "validation mask error % (logit axis)", "validation_mask_error%"),
          ("sample_error%", "validation sample error % (logit axis)", "validation_sample_error%")]
CLIP = 0.005  # % : half a validation sample of 10,000, where a logit axis needs a floor
ERROR_TICKS = [0.01, 0.1, 1, 10, 50, 90, 99, 99.9]
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


def logit_percent(y):
    p = np.clip(np.asarray(y, dtype=float), CLIP, 100 - CLIP) / 100
    return np.log(p / (1 - p))


def expit_percent(z):
    return 100 / (1 + np.exp(-np.asarray(z, dtype=float)))


def _originals(table: Table) -> dict:
    """cell label -> {curve column: the original's final value} (reference tables)."""
    out = {}
    for r in table.rows:
        for col, _, name in PANELS:
            table_col = next((c for c in r.original if METRICS[c][0] == name), None)
            value = r.original.get(table_col, float("nan")) if table_col else float("nan")
            if not np.isnan(value):
                out.setdefault(cell_label(r.cell), {})[col] = value
    return out


def plot_experiment(table: Table, png: Path, svg: Path, root: Path = Path("."),
                    curve_files: dict | None = None) -> None:
    """One row of three panels per group of at most MAX_LINES lines, legends beside the panels;
    every line its own colour across the whole figure, dashed and labelled with its budget where it
    trained below the original's; the curves from `curve_files` (run key -> curve.csv, the job's input)
    where given, else from the runs under `root`."""
    exp = table.exp
    groups = _groups(exp, _lines(exp))
    originals = {} if exp.spec.get("per_trial") else _originals(table)
    budget = {cell_label(c): c.original_samples for c in exp.cells}
    below = {cell_label(c): c.runs[0].settings["samples"] for c in exp.cells
             if c.runs[0].settings["samples"] < c.original_samples}
    fig, axes = plt.subplots(len(groups), 3, figsize=(16, 3.4 * len(groups)), sharex=True, squeeze=False)
    palette = plt.cm.tab20(np.arange(20))
    index = 0
    for row, group in zip(axes, groups):
        for label, keys in group:
            color = palette[(2 * index) % 20 if index < 10 else (2 * index + 1) % 20]
            index += 1
            curves = [c for c in (read_curve(k, root, curve_files) for k in keys) if c is not None and len(c)]
            if not curves:
                continue
            cell = label.split(" trial ")[0]  # per-trial lines are labelled '<cell> trial <k>'
            shown, style = label, "-"
            if cell in below:
                shown, style = f"{label} ({format_samples(below[cell])} of {format_samples(budget[cell])})", "--"
            for ax, (col, _, _) in zip(row, PANELS):
                joined = pd.concat([c.set_index("samples")[col] for c in curves], axis=1).dropna()
                x = joined.index.to_numpy()
                ax.plot(x, joined.mean(axis=1), color=color, lw=1.2, ls=style, marker="o", ms=2.5, label=shown)
                if joined.shape[1] > 1:
                    ax.fill_between(x, joined.min(axis=1), joined.max(axis=1), color=color, alpha=0.2, lw=0)
                original = originals.get(label, {}).get(col)
                if original is not None:
                    ax.plot([budget.get(label, x[-1])], [original], marker="*", ms=9, color=color, mec="black",
                            mew=0.5, ls="none")
        for ax, (col, title, _) in zip(row, PANELS):
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.3)
            if col == "loss":
                ax.set_yscale("log")
            else:
                ax.set_yscale("function", functions=(logit_percent, expit_percent))
                ax.set_yticks(ERROR_TICKS)
                ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}"))
                ax.set_ylim(CLIP, 100 - CLIP)
        handles, labels = row[0].get_legend_handles_labels()
        if handles:
            row[2].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8,
                          frameon=False, title=exp.spec.get("plot_group"))
    for ax in axes[-1]:
        ax.set_xlabel("training samples")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x / 1e6:g}M"))
    notes = (["stars: the original's final value at its budget"] if any(originals.values()) else []) + \
        (["dashed: trained below it"] if below else [])
    fig.suptitle(f"{exp.name}: {exp.spec['title']}" + (f" ({'; '.join(notes)})" if notes else ""))
    fig.tight_layout()
    save_figure(fig, png, svg)


def save_figure(fig, png: Path, svg: Path) -> None:
    for path, fmt, meta in ((png, "png", {"Software": None}), (svg, "svg", {"Date": None})):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata=meta, bbox_inches="tight", dpi=90)
        atomic_write(Path(path), buf.getvalue())
    plt.close(fig)
