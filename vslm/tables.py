"""One `Table` per experiment: its rows with all their trials and the original's values, and each
row's verdict as the judging job (`vslm.judged`) found it. The markdown/CSV table, the plot and the
article section read it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from .columns import METRICS, NO_REFERENCE, SHORT, label, metric_columns, setting_columns
from .experiments import Experiment
from .files import atomic_write
from .rows import Row
from .settings import format_samples

VERDICT = "verdict: ours / original [90 % interval] (n ours/original; smallest detectable factor)"
PARTNER = "ours ÷ original, same rank"  # a per-trial table's row: one trial against one trial
BELOW = "below budget"


def _fmt(col: str, v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if col == "model params":
        return f"{int(round(v)):,}"
    if col == "throughput":
        return f"{int(v):,}/s"
    if col == "train time (minutes)":
        return f"{v:.2f}"
    return f"{v:.3g}"  # three significant figures: the trials differ in the second


def mean_sd(col: str, mean: float, sd: float) -> str:
    """'mean ± sd' with the sd to two significant figures and the mean no finer than it (and at most
    three significant figures): 0.000424 ± 0.000146 -> '0.00042 ± 0.00015'."""
    if not (sd > 0 and math.isfinite(sd) and math.isfinite(mean)) or col in ("model params", *NO_REFERENCE):
        return f"{_fmt(col, mean)} ± {_fmt(col, sd)}"
    place = math.floor(math.log10(sd)) - 1  # the decimal exponent of the sd's second figure
    mean_place = max(place, math.floor(math.log10(abs(mean))) - 2) if mean else place
    return f"{round(mean, -mean_place):.{max(0, -mean_place)}f} ± {round(sd, -place):.{max(0, -place)}f}"


def spread_cell(col: str, values: list) -> str:
    """One cell for a metric over trials: 'mean ± sd (min–max, n)', 'v in n of n' where every trial
    gave the same value, or the value of a lone trial."""
    if len(values) < 2:
        return _fmt(col, values[0]) if values else ""
    v = np.asarray(values, dtype=float)
    if np.all(v == v[0]):
        return f"{_fmt(col, v[0])} in {len(v)} of {len(v)}"
    return f"{mean_sd(col, v.mean(), v.std(ddof=1))} ({_fmt(col, v.min())}–{_fmt(col, v.max())}, {len(v)})"


@dataclass
class Table:
    """One experiment's rows and their verdicts (row id -> [verdict, interval]; empty where nothing
    is judged: a plot draws the values only)."""

    exp: Experiment
    rows: list[Row]
    verdicts: dict = field(default_factory=dict)

    def has_original(self, col: str) -> bool:
        return any(not np.isnan(r.original.get(col, float("nan"))) for r in self.rows)

    @property
    def judged(self) -> list[str]:
        """The columns rows are judged on: the error rates the original reports (sample and mask
        error), else its validation loss."""
        def column(metric: str) -> str | None:
            col = next((c for c in metric_columns(self.exp) if METRICS[c][0] == metric), None)
            return col if col and self.has_original(col) else None

        errors = [c for m in ("validation_sample_error%", "validation_mask_error%") if (c := column(m))]
        loss = column("validation_loss")
        return errors or ([loss] if loss else [])

    def verdict(self, row: Row) -> tuple[str, str]:
        """The row's verdict and its interval (ours over the original's, as a factor of the odds or
        the loss) on the judged columns; rows trained below the original's budget get none."""
        if row.settings["samples"] < row.cell.original_samples:
            return BELOW, ""
        found = self.verdicts.get(row_id(row), {})
        return found.get("verdict", ""), found.get("interval", "")

    def partner(self, row: Row) -> str:
        """A per-trial row's trial over the original's trial of the same rank, on the judged columns
        (the cell's verdict, from all its trials, is stated once per cell below the table)."""
        parts = []
        for col in self.judged:
            ours, theirs = row.mean(col), row.original.get(col, float("nan"))
            if theirs > 0 and not np.isnan(ours):
                parts.append(f"{SHORT[METRICS[col][0]]} ×{ours / theirs:.2g}")
        return "; ".join(parts)

    @property
    def spread(self) -> list[str]:
        """The config's `spread` columns, shown once some row has >= 2 finished trials."""
        return self.exp.spec.get("spread", []) if any(r.trials > 1 for r in self.rows) else []

    def _original_cell(self, r: Row, col: str) -> str:
        """The original's value, with its trials' sd, range and count where its table gives them."""
        mean = r.original.get(col, float("nan"))
        if col not in r.original_range and col not in r.original_std:
            return _fmt(col, mean)
        value = mean_sd(col, mean, r.original_std[col]) if col in r.original_std else _fmt(col, mean)
        lo, hi = r.original_range.get(col, (None, None))
        span = f"{_fmt(col, lo)}–{_fmt(col, hi)}, " if lo is not None else ""
        return f"{value} ({span}{self.exp.original_trials})"

    def frame(self) -> pd.DataFrame:
        """The displayed comparison, at most a dozen columns: settings; per metric ours beside the
        original's, each one cell with its trials' spread ('mean ± sd (min–max, n)'); the budget
        where it differs from the original's; the row's verdict with its interval. Rows trained
        below the original's budget come last, in their own block, and are not judged."""
        rows = self.rows
        budgets = any(r.settings["samples"] != r.cell.original_samples for r in rows)
        pending = any(r.status != "done" for r in rows)
        below = lambda r: r.settings["samples"] < r.cell.original_samples  # noqa: E731
        out = []
        for r in sorted(rows, key=below):  # stable: the config's order within each block
            d = dict(r.display)
            for col in metric_columns(self.exp):
                if col in NO_REFERENCE:
                    continue
                if col == "model params":  # equal to the original's by construction (tests): in the run details
                    continue
                d[col] = spread_cell(col, r.values[col])
                if self.has_original(col):
                    d[f"{col} (original)"] = self._original_cell(r, col)
            if budgets:
                budget = [format_samples(n) for n in (r.settings["samples"], r.cell.original_samples)]
                d["samples (original)"] = "{} ({})".format(*budget)
            if self.judged and self.exp.spec.get("per_trial"):
                d[PARTNER] = self.partner(r)
            elif self.judged:
                verdict, interval = self.verdict(r)
                d[VERDICT] = f"{verdict}: {interval}" if interval else verdict
            if pending:
                d["status"] = r.status
            out.append(d)
        return pd.DataFrame(out)

    def details(self) -> pd.DataFrame:
        """Per row: parameters, run keys, status, training time and throughput (hardware-specific)."""
        out = []
        for r in self.rows:
            d = dict(r.display)
            d.update({c: _fmt(c, r.mean(c)) for c in ("model params", *NO_REFERENCE) if c in metric_columns(self.exp)})
            d.update({"status": r.status, "runs": " ".join(r.keys)})
            out.append(d)
        return pd.DataFrame(out)

    def markdown(self, frame: pd.DataFrame | None = None) -> str:
        """The table for reading: settings equal in every row stated once above it, not as columns."""
        frame = self.frame() if frame is None else frame
        same = [c for c in setting_columns(self.exp) if len(frame) > 1 and frame[c].nunique() == 1]
        head = ("Same in every row: " + ", ".join(f"{c} {frame[c].iloc[0]}" for c in same) + ".\n\n") if same else ""
        shown = frame.drop(columns=same).rename(columns=label)
        return head + tabulate(shown, headers="keys", tablefmt="github", showindex=False) + "\n"

    def write(self, md_path: Path, csv_path: Path) -> None:
        """The markdown table and the CSV (the table and the run details)."""
        frame = self.frame()
        details = self.details()
        details = details.drop(columns=[c for c in details if c in frame])
        atomic_write(csv_path, pd.concat([frame, details], axis=1).to_csv(index=False))
        atomic_write(md_path, self.markdown(frame))


def row_id(row: Row) -> str:
    """A row's name in the judging job's file: its first run key (rows of one table differ in it)."""
    return row.keys[0]
