"""Files written atomically (a temp file beside the target, then a rename) and read with a size
limit; a full disk or an oversized file is one line (`FileError`), and nothing half-written stays."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path

MAX_TEXT_BYTES = 10_000_000  # the largest file the pipeline reads back (a spec file) is about 40 kB


class FileError(RuntimeError):
    """A file that cannot be written or read as asked: one line naming it and what to do."""


def _disk_full(path: Path, e: OSError) -> FileError:
    return FileError(f"{path}: no space left on the device ({e.strerror}); free space and run again, "
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


def read_text(path: Path, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """A UTF-8 text file of at most `max_bytes` (characters); a larger one raises FileError."""
    with open(path, encoding="utf-8") as f:
        text = f.read(max_bytes + 1)
    if len(text) > max_bytes:
        raise FileError(f"{path} is over {max_bytes:,} bytes")
    return text


def read_json(path: Path, max_bytes: int = MAX_TEXT_BYTES):
    """A JSON file of at most `max_bytes`; a larger one raises FileError."""
    return json.loads(read_text(path, max_bytes))
