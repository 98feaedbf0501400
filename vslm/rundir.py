"""Files of a run directory, every one written atomically (temp file, then rename); a run
directory is owned by one run key and one writer at a time."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
from pathlib import Path

import torch

CHECKPOINT_FIELDS = ("run_key", "model", "opt", "samples", "step", "epoch", "batch_in_epoch", "train_time",
                     "curve", "train_acc", "log_acc", "last_log", "last_validation")


class RunDirError(RuntimeError):
    """A run directory that cannot be used as asked: one line naming it and what to do."""


def _disk_full(path: Path, e: OSError) -> RunDirError:
    return RunDirError(f"{path}: no space left on the device ({e.strerror}); free space and run again, "
                       "the run resumes from its last checkpoint")


@contextlib.contextmanager
def _atomic(path: Path):
    """A temp file beside `path` (yielded open), renamed over it on success, removed on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            raise _disk_full(path, e) from None
        raise


def atomic_write(path: Path, data: bytes | str) -> None:
    with _atomic(path) as f:
        f.write(data.encode() if isinstance(data, str) else data)


def write_json(path: Path, obj) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def save_checkpoint(path: Path, state: dict) -> None:
    with _atomic(path) as f:
        torch.save(state, f)


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


@contextlib.contextmanager
def owned(out: Path, run_key: str):
    """Hold `out` for run `run_key`: refused if it holds another run's (or an unreadable) result, or
    if another process writes into it; the lock goes with the process, however it ends."""
    out = Path(out)
    if out.is_symlink():
        raise RunDirError(f"{out} is a symbolic link: a run directory must be a real directory")
    metrics = out / "metrics.json"
    if metrics.exists():
        try:
            owner = json.loads(metrics.read_text()).get("run_key")
        except (OSError, ValueError, AttributeError):
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
