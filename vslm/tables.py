"""Run metrics -> one results table per experiment, with the original's numbers beside ours.

Rows are cells (or single runs, for per-trial tables); metric columns are means over
the finished trials, with (min)/(max)/(std, ddof=1) where the article has them. Cells
whose runs are missing or failed stay in the table, marked, so a draft article builds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from .experiments import Cell, Experiment, load_result
from .paths import REFERENCE_DIR
from .settings import SettingsError, format_samples, format_value, parse_value

# article column name -> (metrics.json key, scale)
METRICS = {
    "validation loss": ("validation_loss", 1),
    "validation_mask_error%": ("validation_mask_error%", 1),
    "validation mask error %": ("validation_mask_error%", 1),
    "validation_sample_error%": ("validation_sample_error%", 1),
    "validation sample error%": ("validation_sample_error%", 1),
    "train_sample_error%": ("train_sample_error%", 1),
    "model params": ("model_params", 1),
    "train time (minutes)": ("train_time_s", 1 / 60),
    "throughput": ("throughput", 1),
}
NO_REFERENCE = ("train time (minutes)", "throughput")  # hardware-specific: not compared
SETTING_ALIASES = {"dilation": "dil", "trial": "seed"}
VERDICT = "verdict: ours / original, 90 % interval"
PER_LAYER = ("dil", "attn")


def setting_columns(exp: Experiment) -> list[str]:
    return [c for c in exp.spec["columns"] if c not in METRICS]


def metric_columns(exp: Experiment) -> list[str]:
    return [c for c in exp.spec["columns"] if c in METRICS]


def _cell_value(col: str, settings: dict):
    return settings[SETTING_ALIASES.get(col, col)]


def _reference_value(col: str, raw, settings: dict, exp: Experiment):
    """Parse a reference table cell into our settings' form (None = matches anything)."""
    key = SETTING_ALIASES.get(col, col)
    raw = raw.strip()  # reference tables are read as strings, empty = default
    raw = exp.spec.get("reference_values", {}).get(col, {}).get(raw, raw)
    if raw == "":
        return [1 if key == "dil" else 0] * settings["l"] if key in PER_LAYER else None
    value = parse_value(key, raw)
    if key in PER_LAYER and len(value) == 1:
        value = value * settings["l"]
    return value


def _number(raw) -> float:
    if raw is None or raw.strip() == "":
        return float("nan")
    return float(str(raw).replace(",", "").replace("/s", ""))


MAX_REFERENCE_BYTES, MAX_REFERENCE_ROWS = 1_000_000, 10_000  # the largest original table has 32 rows


def read_reference(path: Path) -> pd.DataFrame:
    """One reference table as strings, checked: within the size limits, a CSV, and every cell of a
    metric column (and of its spread columns) a number or empty. A bad one raises ValueError
    naming the file, the column, the row and the value."""
    size = Path(path).stat().st_size
    if size > MAX_REFERENCE_BYTES:
        raise ValueError(f"{path} is {size:,} bytes, over the {MAX_REFERENCE_BYTES:,}-byte limit")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_REFERENCE_ROWS + 1)
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as e:
        raise ValueError(f"{path} is not a CSV table ({type(e).__name__})") from None
    if len(frame) > MAX_REFERENCE_ROWS:
        raise ValueError(f"{path} has over {MAX_REFERENCE_ROWS:,} rows")
    for col in frame.columns:
        if col.split(" (")[0] in METRICS or col.startswith("("):
            for i, raw in enumerate(frame[col]):
                try:
                    ok = np.isfinite(_number(raw)) or not raw.strip()
                except ValueError:
                    ok = False
                if not ok:
                    raise ValueError(f"{path} column {col!r} row {i + 2}: {raw[:40]!r} is not a number")
    return frame


def reference_rows(exp: Experiment, root: Path = Path(".")) -> pd.DataFrame:
    """The original's rows: one reference table, or several (the first matching row counts)."""
    names = exp.spec["reference"]
    frames = [read_reference(Path(root) / REFERENCE_DIR / n) for n in ([names] if isinstance(names, str) else names)]
    return pd.concat(frames, ignore_index=True).fillna("")


def _reference_spread(ref_row: dict, col: str) -> dict:
    """The original's spread of `col` over its trials: the (min), (max), (std) columns that follow
    it, or a '<col> (std)' column."""
    names = list(ref_row)
    after = names[names.index(col) + 1:] if col in names else []
    spread = {}
    for name in after:
        if not name.startswith("("):
            break
        spread[name.split(".")[0]] = _number(ref_row[name])
    if f"{col} (std)" in ref_row:
        spread["(std)"] = _number(ref_row[f"{col} (std)"])
    return {k: v for k, v in spread.items() if not np.isnan(v)}


def _same_settings(row, exp: Experiment, settings: dict, ignore) -> bool:
    try:
        return all(_reference_value(c, row[c], settings, exp) in (None, _cell_value(c, settings))
                   for c in setting_columns(exp) if c in row and c not in ignore)
    except SettingsError:  # a reference value that is none of our settings' values (e.g. an unmapped model)
        return False


def reference_matches(ref: pd.DataFrame, exp: Experiment, settings: dict, ignore=()) -> list[dict]:
    """The original's rows with this run's settings (columns in `ignore` not compared)."""
    return [row.to_dict() for _, row in ref.iterrows() if _same_settings(row, exp, settings, ignore)]


def match_reference(ref: pd.DataFrame, exp: Experiment, settings: dict) -> dict | None:
    found = reference_matches(ref, exp, settings)
    return found[0] if found else None


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


def build_rows(exp: Experiment, root: Path = Path(".")) -> list[Row]:
    """The table's rows with raw numbers (for tables, plots, claims and the article)."""
    ref = reference_rows(exp, root)
    groups = []
    for cell in exp.cells:
        runs = [[r] for r in cell.runs] if exp.spec.get("per_trial") else [cell.runs]
        groups += [(cell, g) for g in runs]
    rows = []
    for cell, runs in groups:
        settings = runs[0].settings
        results = {run.key: load_result(run.key, root) for run in runs}
        done = {k: r for k, r in results.items() if r and r["status"] == "done"}
        row = Row(cell, settings, [run.key for run in runs], _status(results), list(done))
        for col in setting_columns(exp):
            row.display[col] = format_value(SETTING_ALIASES.get(col, col), _cell_value(col, settings))
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
    row.original = {c: _number(ref_row.get(c)) for c in metric_columns(exp)}
    for c in metric_columns(exp):
        spread = _reference_spread(ref_row, c)
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
                        key=lambda t: _number(t.get(col)))
        for row, ref_row in zip(mine, theirs):
            _set_original(row, ref_row, exp)


def _status(results: dict) -> str:
    states = [r["status"] if r else "pending" for r in results.values()]
    if all(s == "done" for s in states):
        return "done"
    return ", ".join(f"{states.count(s)} {s}" for s in ("done", "pending", "failed", "diverged") if s in states)


def _has_original(rows: list[Row], col: str) -> bool:
    return any(not np.isnan(r.original.get(col, float("nan"))) for r in rows)


def judged_metrics(exp: Experiment, rows: list[Row]) -> list[str]:
    """The columns rows are judged 'reproduced' on (`compare.ROW_RULE`): the error rates the
    original reports (sample and mask error), else its validation loss."""
    def column(metric: str) -> str | None:
        col = next((c for c in metric_columns(exp) if METRICS[c][0] == metric), None)
        return col if col and _has_original(rows, col) else None

    errors = [c for m in ("validation_sample_error%", "validation_mask_error%") if (c := column(m))]
    loss = column("validation_loss")
    return errors or ([loss] if loss else [])


def row_verdict(judge, exp: Experiment, rows: list[Row], row: Row) -> tuple[str, str]:
    """The row's verdict and its interval (ours over the original's, as a factor of the odds or the
    loss) on the columns rows are judged on (workflow/verdicts.yaml); rows trained below the
    original's budget get none."""
    if row.settings["samples"] < row.cell.original_samples:
        return "below budget", ""
    verdict, found = judge.row(row.settings, [METRICS[c][0] for c in judged_metrics(exp, rows)])
    return verdict or "", "; ".join(f"{_SHORT[c.metric]} {c.factor}" for c in found)


_SHORT = {"validation_sample_error%": "sample", "validation_mask_error%": "mask", "validation_loss": "loss",
          "train_sample_error%": "train sample"}


def original_place(value: float, ours: list[float]) -> str:
    """Where the original's value falls among our trials."""
    if len(ours) < 2 or np.isnan(value):
        return ""
    return "below ours" if value < min(ours) else "above ours" if value > max(ours) else "inside ours"


def spread_columns(exp: Experiment, rows: list[Row]) -> list[str]:
    """The config's `spread` columns, shown once some row has >= 2 finished trials."""
    return exp.spec.get("spread", []) if any(r.trials > 1 for r in rows) else []


def spread_cell(col: str, values: list) -> str:
    """One cell for a metric over trials: 'mean ± sd (min–max, n)', or the value of a lone trial."""
    if len(values) < 2:
        return _fmt(col, values[0]) if values else ""
    v = np.asarray(values, dtype=float)
    return (f"{_fmt(col, v.mean())} ± {_fmt(col, v.std(ddof=1))} "
            f"({_fmt(col, v.min())}–{_fmt(col, v.max())}, {len(v)})")


def _original_cell(exp: Experiment, r: Row, col: str) -> str:
    """The original's value, with its trials' sd, range and count where its table gives them."""
    value = _fmt(col, r.original.get(col, float("nan")))
    if col not in r.original_range and col not in r.original_std:
        return value
    sd = f" ± {_fmt(col, r.original_std[col])}" if col in r.original_std else ""
    lo, hi = r.original_range.get(col, (None, None))
    span = f"{_fmt(col, lo)}–{_fmt(col, hi)}, " if lo is not None else ""
    return f"{value}{sd} ({span}{exp.original_trials})"


def table_frame(exp: Experiment, rows: list[Row], judge) -> pd.DataFrame:
    """The displayed comparison, at most a dozen columns: settings; per metric ours beside the
    original's, each one cell with its trials' spread ('mean ± sd (min–max, n)'); the budget where
    it differs from the original's; the row's verdict with its interval (`vslm.verdicts.Judge`).
    Rows trained below the original's budget come last, in their own block, and are not judged."""
    budgets = any(r.settings["samples"] != r.cell.original_samples for r in rows)
    pending = any(r.status != "done" for r in rows)
    below = lambda r: r.settings["samples"] < r.cell.original_samples  # noqa: E731
    out = []
    for r in sorted(rows, key=below):  # stable: the config's order within each block
        d = dict(r.display)
        for col in metric_columns(exp):
            if col in NO_REFERENCE:
                continue
            if col == "model params":  # equal to the original's by construction (tests): in the run details
                continue
            d[col] = spread_cell(col, r.values[col])
            if _has_original(rows, col):
                d[f"{col} (original)"] = _original_cell(exp, r, col)
        if budgets:
            budget = [format_samples(n) for n in (r.settings["samples"], r.cell.original_samples)]
            d["samples (original)"] = "{} ({})".format(*budget)
        verdict, interval = row_verdict(judge, exp, rows, r)
        d[VERDICT] = f"{verdict}: {interval}" if interval else verdict
        if pending:
            d["status"] = r.status
        out.append(d)
    return pd.DataFrame(out)


def details_frame(exp: Experiment, rows: list[Row]) -> pd.DataFrame:
    """Per row: parameters, run keys, status, training time and throughput (hardware-specific)."""
    out = []
    for r in rows:
        d = dict(r.display)
        d.update({c: _fmt(c, r.mean(c)) for c in ("model params", *NO_REFERENCE) if c in metric_columns(exp)})
        d.update({"status": r.status, "runs": " ".join(r.keys)})
        out.append(d)
    return pd.DataFrame(out)


def write_table(exp: Experiment, rows: list[Row], judge, md_path: Path, csv_path: Path) -> None:
    from .rundir import atomic_write

    frame = table_frame(exp, rows, judge)
    details = details_frame(exp, rows)
    details = details.drop(columns=[c for c in details if c in frame])
    atomic_write(csv_path, pd.concat([frame, details], axis=1).to_csv(index=False))
    atomic_write(md_path, table_markdown(exp, frame))


def table_markdown(exp: Experiment, frame: pd.DataFrame) -> str:
    """The table for reading: settings equal in every row stated once above it, not as columns."""
    same = [c for c in setting_columns(exp) if len(frame) > 1 and frame[c].nunique() == 1]
    head = ("Same in every row: " + ", ".join(f"{c} {frame[c].iloc[0]}" for c in same) + ".\n\n") if same else ""
    return head + tabulate(frame.drop(columns=same), headers="keys", tablefmt="github", showindex=False) + "\n"
