"""GPU slots without a GPU: simulated devices, concurrent job processes, killed holders."""
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from vslm.gpuslots import slot_order, visible_gpus

HOLDER = """
import os, sys, time
from vslm.gpuslots import pinned
with pinned(sys.argv[1], int(sys.argv[2])) as got:
    print(os.environ["CUDA_VISIBLE_DEVICES"], os.environ["VSLM_GPU_SLOT"], time.monotonic(), flush=True)
    time.sleep(float(sys.argv[3]))
    print("released", time.monotonic(), flush=True)
"""


def start(tmp_path: Path, gpus: int, per_gpu: int, hold: float) -> subprocess.Popen:
    env = {**os.environ, "VSLM_GPU_COUNT": str(gpus)}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "locks"), str(per_gpu), str(hold)],
                            stdout=subprocess.PIPE, text=True, env=env)


def test_slots_fill_devices_evenly():
    assert slot_order(2, 2) == [(0, 0), (1, 0), (0, 1), (1, 1)]


def test_concurrent_jobs_get_distinct_balanced_slots(tmp_path):
    procs = [start(tmp_path, gpus=4, per_gpu=2, hold=3) for _ in range(8)]
    lines = [p.stdout.readline().split() for p in procs]
    for p in procs:
        p.wait()
    slots = [slot for _, slot, _ in lines]
    assert len(set(slots)) == 8
    assert Counter(device for device, _, _ in lines) == {"0": 2, "1": 2, "2": 2, "3": 2}


def test_a_job_without_a_free_slot_waits_and_a_killed_holder_frees_its_slot(tmp_path):
    first = start(tmp_path, gpus=1, per_gpu=1, hold=60)
    assert first.stdout.readline().split()[:2] == ["0", "0/0"]
    waiting = start(tmp_path, gpus=1, per_gpu=1, hold=0)
    time.sleep(2)
    assert waiting.poll() is None  # never shares beyond jobs-per-GPU
    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    got = waiting.stdout.readline().split()
    assert got[:2] == ["0", "0/0"] and float(got[2]) >= killed_at - 1
    waiting.wait(timeout=30)
    first.wait()


def test_no_gpu_means_no_slot(tmp_path, monkeypatch):
    from vslm.gpuslots import gpu_slot

    with gpu_slot(tmp_path, gpus=[]) as got:
        assert got is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    monkeypatch.delenv("VSLM_GPU_COUNT", raising=False)
    assert visible_gpus() == ["3", "5"]


def test_pipeline_places_gpu_jobs_on_slots(tmp_path):
    """Two simulated GPUs, two jobs at a time: every run takes and records a slot of its own device."""
    import json

    import yaml
    from conftest import ROOT, copy_pipeline

    work = copy_pipeline(tmp_path / "work")
    cfg = yaml.safe_load((ROOT / "tests" / "fixtures" / "config.yaml").read_text())
    cfg["experiments"] = {"S1-T1": cfg["experiments"]["S1-T1"]}  # two cells, CPU-sized
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "VSLM_GPU_COUNT": "2"}
    out = subprocess.run(["snakemake", "--cores", "2", "--resources", "gpu=2"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    runs = (work / "results" / "runs").glob("*/metrics.json")
    slots = [json.loads(p.read_text())["provenance"]["gpu_slot"] for p in runs]
    assert len(slots) == 2 and set(slots) <= {"0/0", "1/0"}  # slot 0 of either device, never a second slot
