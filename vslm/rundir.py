"""Files of a run directory, every one written atomically (temp file, then rename)."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch


def atomic_write(path: Path, data: bytes | str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def save_checkpoint(path: Path, state: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, run_key: str) -> tuple[dict | None, str | None]:
    """-> (state, None), or (None, reason) if it is missing, unreadable or from another run."""
    path = Path(path)
    if not path.exists():
        return None, None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # any unreadable file: report it in one line, never crash
        return None, f"unreadable ({type(e).__name__})"
    if not isinstance(state, dict) or state.get("run_key") != run_key:
        return None, "from another run or another version"
    return state, None
