"""A run directory: owned by one run key and one writer at a time; its checkpoint, and its result
(metrics.json, curve.csv) read and checked. Every file in it is written atomically (`files`)."""
from __future__ import annotations

import contextlib
import fcntl
import io
import json
import math
from pathlib import Path

import torch

from .curves import check_curve
from .files import FileError, atomic_write, read_text
from .paths import RUNS_DIR

CHECKPOINT_FIELDS = ("run_key", "model", "opt", "samples", "step", "epoch", "batch_in_epoch", "train_time",
                     "curve", "train_acc", "log_acc", "last_log", "last_validation")


class RunDirError(FileError):
    """A run directory that cannot be used as asked: one line naming it and what to do."""


def save_checkpoint(path: Path, state: dict) -> None:
    """Serialised in memory first (a checkpoint is a few MB): a full disk then fails in a plain
    write, as one line, not inside torch's zip writer."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write(path, buffer.getvalue())


def load_checkpoint(path: Path, run_key: str) -> tuple[dict | None, str | None]:
    """-> (state, None), or (None, reason) if it is missing, unreadable or from another run."""
    path = Path(path)
    if not path.exists():
        return None, None
    try:  # tensors and plain containers only: a crafted pickle cannot run code
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any unreadable file: report it in one line, never crash
        return None, f"unreadable ({type(e).__name__})"
    if not isinstance(state, dict) or state.get("run_key") != run_key:
        return None, "from another run or another version"
    missing = [k for k in CHECKPOINT_FIELDS if k not in state]
    if missing:
        return None, f"incomplete (no {', '.join(missing)})"
    return state, None


# What a run directory holds (vslm.train, the CLI's error.log); anything else means it is no run's.
RUN_FILES = {".lock", "checkpoint.pt", "checkpoint.pt.unusable", "curve.csv", "examples.png", "examples.txt",
             "metrics.json", "model.pt", "error.log"}


@contextlib.contextmanager
def owned(out: Path, run_key: str):
    """Hold `out` for run `run_key`: refused if it is not a directory of run files (e.g. a folder of
    tables), if it holds another run's (or an unreadable) result, or if another process writes into
    it; the lock goes with the process, however it ends."""
    out = Path(out)
    if out.is_symlink():
        raise RunDirError(f"{out} is a symbolic link: a run directory must be a real directory")
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out} is a file, not a run directory")
    other = sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES and not p.name.endswith(".tmp")) \
        if out.is_dir() else []
    if other:
        raise RunDirError(f"{out} holds files that are no run's ({', '.join(other[:3])}"
                          f"{', …' if len(other) > 3 else ''}): choose an empty or new directory")
    metrics = out / "metrics.json"
    if metrics.exists():
        try:
            owner = json.loads(read_text(metrics, MAX_RESULT_BYTES)).get("run_key")
        except (OSError, ValueError, AttributeError, FileError):
            raise RunDirError(f"{metrics} is unreadable: delete {out} to retrain this run") from None
        if owner != run_key:
            raise RunDirError(f"{out} holds run {owner}, not {run_key}: choose another directory")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = open(out / ".lock", "w")
    except OSError as e:
        raise RunDirError(f"{out}: cannot write there ({e.strerror})") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirError(f"{out}: another process is training into it") from None
        try:
            yield
        except BaseException:
            if created and [f.name for f in out.iterdir()] == [".lock"]:  # nothing written: leave no trace
                (out / ".lock").unlink()
                out.rmdir()
            raise
        if metrics.exists():  # finished: the lock goes with the run
            (out / ".lock").unlink(missing_ok=True)


MAX_RESULT_BYTES = 1_000_000  # a metrics.json is about 2 kB
RESULT_FIELDS = {"done": ("validation_loss", "validation_mask_error%", "validation_sample_error%",
                          "model_params", "train_time_s"), "diverged": (), "failed": ()}


def load_result(key: str, root: Path = Path(".")) -> dict | None:
    """Run `key`'s metrics.json under `root` (`read_result`)."""
    return read_result(Path(root) / RUNS_DIR / key / "metrics.json", key)


def results_at(paths) -> dict[str, dict | None]:
    """The results of the metrics.json paths a job's `snakemake.input` names, by run key (the run
    directory's name)."""
    return {Path(p).parent.name: read_result(Path(p), Path(p).parent.name) for p in paths}


def read_result(path: Path, key: str) -> dict | None:
    """A run's metrics.json, or None if there is none yet. One that is unreadable, from another
    run or incomplete raises `RunDirError` naming it and how to retrain it."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_RESULT_BYTES + 1)
        if len(text) > MAX_RESULT_BYTES:
            raise ValueError(f"over {MAX_RESULT_BYTES:,} bytes")
        result = json.loads(text)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise RunDirError(f"{path} is unreadable ({type(e).__name__}): delete {path.parent} to retrain it") from None
    status = result.get("status") if isinstance(result, dict) else None
    metrics = result.get("metrics") if isinstance(result, dict) else None
    metrics = metrics if isinstance(metrics, dict) else {}
    missing = [f for f in RESULT_FIELDS.get(status, ()) if metrics.get(f) is None]
    bad = [f"{f} = {v!r:.40}" for f, v in metrics.items() if v is not None and not _finite(v)]
    if status not in RESULT_FIELDS or result.get("run_key") != key or missing or bad:
        why = (f"lacks {', '.join(missing)}" if missing else f"has {bad[0]}, not a finite number" if bad
               else "is not a result of this run")
        raise RunDirError(f"{path} {why}: delete {path.parent} to retrain it")
    return result


def check_run(key: str, root: Path = Path(".")) -> None:
    """What the DAG checks of every committed run before any job: its metrics.json (`load_result`)
    and, once done, its curve.csv; a bad one raises `RunDirError` naming it and how to retrain it."""
    result = load_result(key, root)
    curve = Path(root) / RUNS_DIR / key / "curve.csv"
    if result and result["status"] == "done" and (why := check_curve(curve)):
        raise RunDirError(f"{curve} {why}: delete {curve.parent} to retrain it")


def _finite(v) -> bool:
    """A metric value: a real number (not a bool), finite and below 1e15."""
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 1e15 and math.isfinite(v)
