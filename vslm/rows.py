"""Run metrics -> the rows of one experiment's table: a cell (or one run, for per-trial tables) with
all its finished trials' values and the original's value, spread and trials beside them. Cells
whose runs are missing or failed stay, with their status, so a draft builds."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .columns import METRICS, SETTING_ALIASES, cell_value, metric_columns, setting_columns
from .experiments import Cell, Experiment
from .reference import match_reference, number, reference_matches, reference_rows, reference_spread
from .rundir import load_result
from .settings import format_value


@dataclass
class Row:
    """One table row (a cell, or one run of a per-trial table) with raw numbers, keyed by the
    table's column names; `value(metric)` finds a metrics.json key's column."""

    cell: Cell
    settings: dict  # the first run's resolved settings
    keys: list[str]
    status: str  # done, or counts such as '1 done, 2 pending'
    done_keys: list[str]  # the finished runs
    display: dict = field(default_factory=dict)  # setting column -> display value
    values: dict = field(default_factory=dict)  # metric column -> the finished runs' values
    original: dict = field(default_factory=dict)  # metric column -> the original's value (nan: none)
    original_range: dict = field(default_factory=dict)  # metric column -> the original's (min, max)
    original_std: dict = field(default_factory=dict)  # metric column -> the std of the original's trials

    @property
    def trials(self) -> int:
        return len(self.done_keys)

    def mean(self, col: str) -> float:
        v = self.values.get(col) or []
        return float(np.mean(v)) if v else float("nan")

    def column(self, metric: str) -> str | None:
        """The column of this row's table that shows metrics.json key `metric`."""
        return next((c for c in self.values if METRICS[c][0] == metric), None)

    def metric(self, metric: str) -> list[float]:
        col = self.column(metric)
        return self.values.get(col, []) if col else []


def build_rows(exp: Experiment, root: Path = Path("."), results: dict | None = None) -> list[Row]:
    """The table's rows with raw numbers (for tables, plots, claims and the article): the runs'
    results from `results` (run key -> result, as `results_at` reads a job's input; a run not in
    it has none yet) or else read under `root`."""
    ref = reference_rows(exp, root)
    groups = []
    for cell in exp.cells:
        runs = [[r] for r in cell.runs] if exp.spec.get("per_trial") else [cell.runs]
        groups += [(cell, g) for g in runs]
    rows = []
    for cell, runs in groups:
        settings = runs[0].settings
        found = {run.key: results.get(run.key) if results is not None else load_result(run.key, root) for run in runs}
        done = {k: r for k, r in found.items() if r and r["status"] == "done"}
        row = Row(cell, settings, [run.key for run in runs], _status(found), list(done))
        for col in setting_columns(exp):
            row.display[col] = format_value(SETTING_ALIASES.get(col, col), cell_value(col, settings))
        for col in metric_columns(exp):
            key, scale = METRICS[col]
            row.values[col] = [r["metrics"][key] * scale for r in done.values() if r["metrics"].get(key) is not None]
        if not exp.spec.get("per_trial"):
            _set_original(row, match_reference(ref, exp, settings), exp)
        rows.append(row)
    if exp.spec.get("per_trial"):
        _pair_trials_by_rank(rows, ref, exp)
    sort = exp.spec.get("sort")
    if sort:
        col, desc = sort.rstrip("-"), sort.endswith("-")
        rows.sort(key=lambda r: (np.isnan(r.mean(col)), -r.mean(col) if desc else r.mean(col)))
    return rows


def _set_original(row: Row, ref_row: dict | None, exp: Experiment) -> None:
    if not ref_row:
        return
    row.original = {c: number(ref_row.get(c)) for c in metric_columns(exp)}
    for c in metric_columns(exp):
        spread = reference_spread(ref_row, c)
        if "(min)" in spread and "(max)" in spread:
            row.original_range[c] = (spread["(min)"], spread["(max)"])
        if spread.get("(std)"):
            row.original_std[c] = spread["(std)"]


def _pair_trials_by_rank(rows: list[Row], ref: pd.DataFrame, exp: Experiment) -> None:
    """Trials of ours and of the original are independent seeds, so a per-trial table pairs them
    by rank within each cell (our best trial beside the original's best), not by trial number."""
    col = next(c for c in metric_columns(exp) if METRICS[c][0] == "validation_sample_error%")
    for cell in exp.cells:
        mine = sorted((r for r in rows if r.cell is cell), key=lambda r: (np.isnan(r.mean(col)), r.mean(col)))
        theirs = sorted(reference_matches(ref, exp, mine[0].settings, ignore=("trial",)),
                        key=lambda t: number(t.get(col)))
        for row, ref_row in zip(mine, theirs):
            _set_original(row, ref_row, exp)


def _status(results: dict) -> str:
    states = [r["status"] if r else "pending" for r in results.values()]
    if all(s == "done" for s in states):
        return "done"
    return ", ".join(f"{states.count(s)} {s}" for s in ("done", "pending", "failed", "diverged") if s in states)


def original_place(value: float, ours: list[float]) -> str:
    """Where the original's value falls among our trials."""
    if len(ours) < 2 or np.isnan(value):
        return ""
    return "below ours" if value < min(ours) else "above ours" if value > max(ours) else "inside ours"
