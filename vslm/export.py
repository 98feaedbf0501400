"""Curves where researchers look: TensorBoard event files from the runs' curve.csv, one folder per
run named by its experiment, cell and trial, so every run of a table opens side by side. Tags are
`train/<metric>` and `validation/<metric>` (one chart each for train and validation), wall times
follow the run's own training time, and each run's settings and final metrics go to the HParams
view (a grid of cells compared at a glance)."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from .curves import read_all_curve
from .experiments import cell_label
from .rundir import load_result
from .settings import format_value

CURVE_COLUMNS = ("loss", "error%", "mask_error%", "sample_error%")
FINAL = ("validation_loss", "validation_mask_error%", "validation_sample_error%")


def _start(result: dict | None, curve) -> float:
    """The run's start as a POSIX time: its finish time less its training time (0 when unknown)."""
    try:
        finished = datetime.strptime(result["provenance"]["finished"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
        return finished - float(curve["train_time_s"].max())
    except (KeyError, TypeError, ValueError):
        return 0.0


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
                result = load_result(run.key, root)
                start = _start(result, curve)
                label = re.sub(r"[^A-Za-z0-9_.,=+-]+", "_", f"{cell_label(cell)} trial={run.trial}")
                with SummaryWriter(log_dir=str(Path(out) / name / f"{label} {run.key}")) as writer:
                    for row in curve.to_dict("records"):
                        for col in CURVE_COLUMNS:
                            writer.add_scalar(f"{row['split']}/{col}", row[col], row["samples"],
                                              walltime=start + float(row.get("train_time_s") or 0))
                    if result and result["status"] == "done":
                        hparams = {k: format_value(k, v) if isinstance(v, list) else v
                                   for k, v in {**cell.values, "seed": run.trial}.items()}
                        metrics = {f"final/{m}": result["metrics"][m] for m in FINAL}
                        writer.add_hparams(hparams, metrics, run_name=".")
                written += 1
    return written
