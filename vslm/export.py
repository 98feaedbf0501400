"""Curves where researchers look: TensorBoard event files from the runs' curve.csv, one folder per
run named by its experiment, cell and trial, so every run of a table opens side by side."""
from __future__ import annotations

import re
from pathlib import Path

from .curves import read_all_curve
from .experiments import cell_label

CURVE_COLUMNS = ("loss", "error%", "mask_error%", "sample_error%")


def tensorboard(experiments: dict, out: Path, root: Path = Path(".")) -> int:
    """Write event files under `out`; -> the number of runs written (runs without a curve are skipped)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise RuntimeError("vslm export tensorboard needs the tensorboard package: "
                           "pip install -e '.[tensorboard]'") from e
    written = 0
    for name, exp in experiments.items():
        for cell in exp.cells:
            for run in cell.runs:
                curve = read_all_curve(run.key, root)
                if curve is None:
                    continue
                label = re.sub(r"[^A-Za-z0-9_.,=+-]+", "_", f"{cell_label(cell)} trial={run.trial}")
                with SummaryWriter(log_dir=str(Path(out) / name / f"{label} {run.key}")) as writer:
                    for row in curve.to_dict("records"):
                        for col in CURVE_COLUMNS:
                            writer.add_scalar(f"{row['split']}_{col}", row[col], row["samples"])
                written += 1
    return written
