"""Run metrics -> one results table per experiment, with the original's numbers beside ours.

Rows are cells (or single runs, for per-trial tables); metric columns are means over
the finished trials, with (min)/(max)/(std, ddof=1) where the article has them. Cells
whose runs are missing or failed stay in the table, marked, so a draft article builds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from .experiments import Experiment, load_result
from .settings import format_value, parse_value

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"  # the original's tables

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


def reference_rows(exp: Experiment) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / exp.spec["reference"], dtype=str, keep_default_na=False)


def match_reference(ref: pd.DataFrame, exp: Experiment, settings: dict) -> dict | None:
    for _, row in ref.iterrows():
        if all(_reference_value(c, row[c], settings, exp) in (None, _cell_value(c, settings))
               for c in setting_columns(exp) if c in row):
            return row.to_dict()
    return None


def _fmt(col: str, v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if col == "model params":
        return f"{int(round(v)):,}"
    if col == "throughput":
        return f"{int(v):,}/s"
    if col == "train time (minutes)":
        return f"{v:.2f}"
    return f"{v:.6g}"


def build_rows(exp: Experiment, root: Path = Path(".")) -> list[dict]:
    """One dict per table row with raw numbers (for tables, plots and claims)."""
    ref = reference_rows(exp)
    groups = []
    for cell in exp.cells:
        runs = [[r] for r in cell.runs] if exp.spec.get("per_trial") else [cell.runs]
        groups += [(cell, g) for g in runs]
    rows = []
    for cell, runs in groups:
        settings = runs[0][1]
        results = {key: load_result(key, root) for _, _, key in runs}
        done = [r for r in results.values() if r and r["status"] == "done"]
        row = {"_cell": cell, "_settings": settings, "_keys": [k for _, _, k in runs],
               "_status": _status(results), "trials": len(done), "_values": {}, "_by_metric": {}}
        for col in setting_columns(exp):
            row[col] = format_value(SETTING_ALIASES.get(col, col), _cell_value(col, settings))
        for col in metric_columns(exp):
            key, scale = METRICS[col]
            values = [r["metrics"][key] * scale for r in done if r["metrics"].get(key) is not None]
            row["_values"][col] = row["_by_metric"][key] = values
            row[col] = float(np.mean(values)) if values else float("nan")
        ref_row = match_reference(ref, exp, settings)
        row["_ref"] = {c: _number(ref_row.get(c)) for c in metric_columns(exp)} if ref_row else {}
        rows.append(row)
    sort = exp.spec.get("sort")
    if sort:
        col, desc = sort.rstrip("-"), sort.endswith("-")
        rows.sort(key=lambda r: (np.isnan(r[col]), -r[col] if desc else r[col]))
    return rows


def _status(results: dict) -> str:
    states = [r["status"] if r else "pending" for r in results.values()]
    if all(s == "done" for s in states):
        return "done"
    return ", ".join(f"{states.count(s)} {s}" for s in ("done", "pending", "failed", "diverged") if s in states)


def table_frame(exp: Experiment, rows: list[dict]) -> pd.DataFrame:
    """The displayed table: ours, spread, reference; then trials, status and run keys."""
    spread = exp.spec.get("spread", [])
    out = []
    for r in rows:
        d = {c: r[c] for c in setting_columns(exp)}
        for col in metric_columns(exp):
            d[col] = _fmt(col, r[col])
            if col in spread:
                v = r["_values"][col]
                d[f"{col} (min)"] = _fmt(col, min(v)) if v else ""
                d[f"{col} (max)"] = _fmt(col, max(v)) if v else ""
                d[f"{col} (std)"] = _fmt(col, float(np.std(v, ddof=1))) if len(v) > 1 else ""
            if col not in NO_REFERENCE:
                d[f"{col} (original)"] = _fmt(col, r["_ref"].get(col, float("nan")))
        d.update({"trials": r["trials"], "status": r["_status"], "runs": " ".join(r["_keys"])})
        out.append(d)
    return pd.DataFrame(out)


def write_table(exp: Experiment, md_path: Path, csv_path: Path, root: Path = Path(".")) -> list[dict]:
    from .rundir import atomic_write

    rows = build_rows(exp, root)
    frame = table_frame(exp, rows)
    atomic_write(csv_path, frame.to_csv(index=False))
    atomic_write(md_path, tabulate(frame, headers="keys", tablefmt="github", showindex=False) + "\n")
    return rows
