"""A run's curve.csv: training and validation rows against training samples."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .paths import RUNS_DIR

MAX_CURVE_BYTES = 5_000_000  # a 4M-sample run's curve is about 10 kB
CURVE_COLUMNS = ("samples", "split", "loss", "mask_error%", "sample_error%")


def check_curve(path: Path) -> str | None:
    """Why a finished run's curve.csv is no curve (too large, not CSV text, columns missing or not
    numbers, no rows or no validation row), or None when it is one."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_CURVE_BYTES:
            return f"is {size:,} bytes, over the {MAX_CURVE_BYTES:,}-byte limit"
        frame = pd.read_csv(path)
    except OSError as e:
        return f"is unreadable ({e.strerror})"
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as e:
        return f"is not a CSV curve ({type(e).__name__})"
    missing = [c for c in CURVE_COLUMNS if c not in frame]
    if missing:
        return f"lacks the column(s) {', '.join(missing)}"
    if frame.empty:
        return "has no rows"
    if not all(pd.api.types.is_numeric_dtype(frame[c]) for c in CURVE_COLUMNS if c != "split"):
        return "has values that are not numbers"
    if not (frame["split"] == "validation").any():
        return "has no validation row"
    return None


def read_curve_file(path: Path | None) -> pd.DataFrame | None:
    """A curve.csv (training and validation rows), or None if missing or unreadable."""
    if path is None or check_curve(Path(path)):
        return None
    return pd.read_csv(path)


def read_all_curve(key: str, root: Path = Path(".")) -> pd.DataFrame | None:
    """Run `key`'s curve.csv under `root`."""
    return read_curve_file(Path(root) / RUNS_DIR / key / "curve.csv")


def read_curve(key: str, root: Path = Path("."), paths: dict | None = None) -> pd.DataFrame | None:
    """A run's validation rows: from `paths` (run key -> curve.csv, a job's input) where given, else
    under `root`."""
    frame = read_curve_file(paths.get(key)) if paths is not None else read_all_curve(key, root)
    return None if frame is None else frame[frame["split"] == "validation"]


def first_below(key: str, metric: str, threshold: float, root: Path = Path(".")) -> int | None:
    """The training samples at the first validation where `metric` (a metrics.json key such as
    validation_mask_error%) was below `threshold`; None if never (or no curve)."""
    curve = read_curve(key, root)
    column = metric.removeprefix("validation_")
    if curve is None or column not in curve:
        return None
    below = curve[curve[column] < threshold]
    return int(below["samples"].iloc[0]) if len(below) else None
