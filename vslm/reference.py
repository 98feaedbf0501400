"""The original's tables (reference/*.csv): read with limits and checked, and matched to our cells."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .columns import METRICS, PER_LAYER, SETTING_ALIASES, cell_value, setting_columns
from .experiments import Experiment
from .paths import REFERENCE_DIR
from .settings import SettingsError, parse_value


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


def number(raw) -> float:
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
                    ok = np.isfinite(number(raw)) or not raw.strip()
                except ValueError:
                    ok = False
                if not ok:
                    raise ValueError(f"{path} column {col!r} row {i + 2}: {raw[:40]!r} is not a number")
    return frame


def reference_names(spec: dict) -> list[str]:
    """An experiment's reference tables (`reference`: one name, a list, or none for a table of ours only)."""
    names = spec.get("reference", [])
    return [names] if isinstance(names, str) else list(names)


def reference_rows(exp: Experiment, root: Path = Path(".")) -> pd.DataFrame:
    """The original's rows: one reference table, several (the first matching row counts), or none."""
    frames = [read_reference(Path(root) / REFERENCE_DIR / n) for n in reference_names(exp.spec)]
    return pd.concat(frames, ignore_index=True).fillna("") if frames else pd.DataFrame()


def reference_spread(ref_row: dict, col: str) -> dict:
    """The original's spread of `col` over its trials: the (min), (max), (std) columns that follow
    it, or a '<col> (std)' column."""
    names = list(ref_row)
    after = names[names.index(col) + 1:] if col in names else []
    spread = {}
    for name in after:
        if not name.startswith("("):
            break
        spread[name.split(".")[0]] = number(ref_row[name])
    if f"{col} (std)" in ref_row:
        spread["(std)"] = number(ref_row[f"{col} (std)"])
    return {k: v for k, v in spread.items() if not np.isnan(v)}


def _same_settings(row, exp: Experiment, settings: dict, ignore) -> bool:
    try:
        return all(_reference_value(c, row[c], settings, exp) in (None, cell_value(c, settings))
                   for c in setting_columns(exp) if c in row and c not in ignore)
    except SettingsError:  # a reference value that is none of our settings' values (e.g. an unmapped model)
        return False


def reference_matches(ref: pd.DataFrame, exp: Experiment, settings: dict, ignore=()) -> list[dict]:
    """The original's rows with this run's settings (columns in `ignore` not compared)."""
    return [row.to_dict() for _, row in ref.iterrows() if _same_settings(row, exp, settings, ignore)]


def match_reference(ref: pd.DataFrame, exp: Experiment, settings: dict) -> dict | None:
    found = reference_matches(ref, exp, settings)
    return found[0] if found else None
