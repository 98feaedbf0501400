"""GPU slots for training jobs on a GPU box: a job takes a free (device, slot) pair under an
operating-system file lock, which is released however the process ends, and sees only its device.
Slots are tried device-first (every device's slot 0, then every slot 1, ...), so K = devices ×
jobs-per-GPU concurrent jobs fill every device evenly and never share beyond jobs-per-GPU."""
from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
from pathlib import Path


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as CUDA ids, without initialising CUDA here:
    `CUDA_VISIBLE_DEVICES` if set, else `nvidia-smi -L`; `VSLM_GPU_COUNT` simulates a count."""
    if os.environ.get("VSLM_GPU_COUNT"):
        return [str(i) for i in range(int(os.environ["VSLM_GPU_COUNT"]))]
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return [d for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def slot_order(devices: int, jobs_per_gpu: int) -> list[tuple[int, int]]:
    return [(d, j) for j in range(jobs_per_gpu) for d in range(devices)]


@contextlib.contextmanager
def gpu_slot(lock_dir: Path, jobs_per_gpu: int = 1, poll: float = 0.5, gpus: list[str] | None = None):
    """Wait for a free slot, hold it, and yield (device index, slot, CUDA id); with no GPU yield None."""
    gpus = visible_gpus() if gpus is None else gpus
    if not gpus:
        yield None
        return
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for device, slot in slot_order(len(gpus), jobs_per_gpu):
            f = open(lock_dir / f"gpu{device}-slot{slot}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            with f:
                yield device, slot, gpus[device]
            return
        time.sleep(poll)


@contextlib.contextmanager
def pinned(lock_dir: Path, jobs_per_gpu: int = 1):
    """Hold a slot and make its device the only one CUDA sees in this process (set before CUDA
    initialises); `VSLM_GPU_SLOT` records 'device/slot' for the run's provenance."""
    with gpu_slot(lock_dir, jobs_per_gpu) as got:
        if got is not None:
            device, slot, cuda_id = got
            os.environ["CUDA_VISIBLE_DEVICES"] = cuda_id
            os.environ["VSLM_GPU_SLOT"] = f"{device}/{slot}"
        yield got
