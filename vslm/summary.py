"""The article's summary figure: every distinct cell with an original value, ours against the
original's, errors on logit axes and losses on log axes, our 90 % interval as a bar, the
equivalence margin (a factor 2 in the odds or the loss) as a band, one colour per row verdict,
cells trained below the original's budget hollow, points beyond the axes drawn at the edge as
triangles."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .plots import CLIP, ERROR_TICKS, expit_percent, logit_percent, plt, save_figure
from .tables import BELOW
from .verdicts import CONSISTENT, INCONSISTENT, LOSS, NOT_REPRODUCED, REPRODUCED, UNDECIDED, Judge, distinct_cells

SAMPLE = "validation_sample_error%"


def summary_points(judge: Judge, rows_by_exp: dict) -> list[dict]:
    """One point per distinct cell: its table, metric (sample error where the original reports
    it, else loss), ours with its interval, the original's, and whether it ran at the original budget."""
    points = []
    for name, r in distinct_cells(rows_by_exp):
        for metric in (SAMPLE, LOSS):
            c, e = judge.compare(r.settings, metric), judge.estimate(r.settings, metric)
            if c and e:
                budget = r.settings["samples"] >= r.cell.original_samples
                points.append({"table": name, "metric": metric, "ours": e.value, "lo": e.lo, "hi": e.hi,
                               "original": judge.rules.from_z(metric, c.original.mean),
                               "verdict": c.verdict if budget else BELOW,
                               "budget": budget})
                break
    return points


COLORS = {CONSISTENT: "tab:green", REPRODUCED: "tab:blue", UNDECIDED: "tab:orange", INCONSISTENT: "tab:red",
          NOT_REPRODUCED: "tab:purple", BELOW: "grey"}


def summary_figure(points: list[dict], margin: float, png: Path, svg: Path) -> None:
    """`points` as `summary_points` gives them or as results/judged.json holds them (an unbounded end: None)."""
    points = [{k: (math.nan if v is None else v) for k, v in p.items()} for p in points]
    fig, axes = plt.subplots(1, 2, figsize=(14, 6.2))
    for ax, metric in zip(axes, (SAMPLE, LOSS)):
        mine = [p for p in points if p["metric"] == metric]
        if metric != LOSS:  # rates of 0 or 100 % sit beyond the logit axes: at the edge, as triangles
            for p in mine:
                for k in ("ours", "original"):
                    if not CLIP <= p[k] <= 100 - CLIP:
                        p[k], p["clipped"] = min(max(p[k], CLIP), 100 - CLIP), True
        for p in mine:
            kw = dict(color=COLORS[p["verdict"]], ms=6, marker="^" if p.get("clipped") else "o", mew=1.2)
            if not p["budget"]:
                kw.update(mfc="none", marker="s")
            err = np.array([[max(p["ours"] - p["lo"], 0)], [max(p["hi"] - p["ours"], 0)]])
            ax.errorbar([p["original"]], [p["ours"]], yerr=err if np.all(np.isfinite(err)) else None,
                        elinewidth=0.8, capsize=0, **kw)
        if metric == LOSS:
            values = [v for p in mine for v in (p["ours"], p["original"])] or [1e-4, 1]
            lo, hi = min(values) / 3, max(values) * 3
            x = np.geomspace(lo, hi, 100)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.fill_between(x, x / math.exp(margin), x * math.exp(margin), color="grey", alpha=0.15, lw=0)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_title("validation loss, ours against the original's (log axes)", fontsize=10)
        else:
            z = np.linspace(logit_percent(CLIP), logit_percent(100 - CLIP), 200)
            ax.set_xscale("function", functions=(logit_percent, expit_percent))
            ax.set_yscale("function", functions=(logit_percent, expit_percent))
            x = expit_percent(z)
            ax.fill_between(x, expit_percent(z - margin), expit_percent(z + margin), color="grey", alpha=0.15, lw=0)
            for setter in (ax.set_xticks, ax.set_yticks):
                setter(ERROR_TICKS)
            ax.set_xticklabels([f"{t:g}" for t in ERROR_TICKS])
            ax.set_yticklabels([f"{t:g}" for t in ERROR_TICKS])
            ax.set_xlim(CLIP, 100 - CLIP)
            ax.set_ylim(CLIP, 100 - CLIP)
            ax.set_title("validation sample error %, ours against the original's (logit axes)", fontsize=10)
        lim = ax.get_xlim()
        ax.plot(lim, lim, color="black", lw=0.6)
        ax.set_xlabel("the original's")
        ax.set_ylabel("ours (bar: 90 % interval of our mean)")
        ax.grid(alpha=0.3)
    count = {v: sum(p["verdict"] == v for p in points) for v in COLORS}
    handles = [plt.Line2D([], [], color=c, marker="o", ls="none", label=f"{v} ({count[v]})")
               for v, c in COLORS.items() if count[v] and v != BELOW]
    handles += [plt.Line2D([], [], color="grey", marker="s", mfc="none", ls="none", label="below the original budget"),
                plt.Line2D([], [], color="black", marker="^", ls="none", label="clipped at the axis (0 or 100 %)"),
                plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.15,
                              label=f"within ×{math.exp(margin):.2g} (odds or loss): the equivalence margin")]
    axes[1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Every cell with an original value: above the diagonal our error or loss is higher")
    fig.tight_layout()
    save_figure(fig, png, svg)
