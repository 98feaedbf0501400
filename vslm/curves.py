"""A run's curve.csv: training and validation rows against training samples."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .paths import RUNS_DIR


def read_all_curve(key: str, root: Path = Path(".")) -> pd.DataFrame | None:
    """A run's curve.csv (training and validation rows), or None if missing or unreadable."""
    try:
        frame = pd.read_csv(Path(root) / RUNS_DIR / key / "curve.csv")
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return None
    return frame if "split" in frame else None


def read_curve(key: str, root: Path = Path(".")) -> pd.DataFrame | None:
    """A run's validation rows."""
    frame = read_all_curve(key, root)
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
