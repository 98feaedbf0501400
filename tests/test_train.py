"""Training runs: resume equality, corrupt checkpoints, divergence, and that the stack learns."""
import json
import re
from pathlib import Path

import pytest

import vslm.train as train_mod
from vslm.cli import main
from vslm.settings import resolve

TINY = dict(task="program", len=3, nops=1, l=2, ch=16, ks=5, samples=1536, epoch=1024,
            threads=1, progress=False, **{"val-every": 512, "val-count": 256})


def metrics_of(result):
    m = dict(result["metrics"])
    for k in ("train_time_s", "throughput"):
        m.pop(k)
    return m


def test_run_directory_files(tmp_path):
    result = train_mod.run(resolve(TINY), tmp_path)
    assert result["status"] == "done" and result["samples"] == 1536
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["run_key"] == result["run_key"] and on_disk["settings"]["samples"] == 1536
    curve = (tmp_path / "curve.csv").read_text().splitlines()
    assert curve[0].startswith("samples,split")
    assert sum(",validation," in line for line in curve) == 3
    assert (tmp_path / "examples.txt").read_text().startswith("target  ")
    assert (tmp_path / "examples.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob("*.tmp"))
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists() and "cpu family" in cpuinfo.read_text()[:8192]:  # the machine is named, not just x86_64
        assert re.fullmatch(r".+ \(family \d+\)", on_disk["provenance"]["device_name"])


def test_resume_after_kill_equals_uninterrupted(tmp_path, monkeypatch):
    full = train_mod.run(resolve(TINY), tmp_path / "a")
    real_save = train_mod.save_checkpoint

    def save_then_die(path, state):
        real_save(path, state)
        raise KeyboardInterrupt  # killed right after the first checkpoint

    monkeypatch.setattr(train_mod, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_mod.run(resolve(TINY), tmp_path / "b")
    monkeypatch.setattr(train_mod, "save_checkpoint", real_save)
    assert not (tmp_path / "b" / "metrics.json").exists()
    logs = []
    resumed = train_mod.run(resolve(TINY), tmp_path / "b", log=logs.append)
    assert any("resuming" in line and "512 samples" in line for line in logs)
    assert metrics_of(resumed) == metrics_of(full)


def test_corrupt_checkpoint_restarts_cleanly(tmp_path):
    full = train_mod.run(resolve(TINY), tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    logs = []
    result = train_mod.run(resolve(TINY), tmp_path / "b", log=logs.append)
    assert len([line for line in logs if "checkpoint" in line]) == 1
    assert (tmp_path / "b" / "checkpoint.pt.unusable").read_bytes() == b"not a checkpoint"
    assert metrics_of(result) == metrics_of(full)


def test_divergence_is_a_status(tmp_path):
    result = train_mod.run(resolve(dict(TINY, lr=1e30)), tmp_path)
    assert result["status"] == "diverged"
    assert 0 < result["samples"] <= 1536
    assert result["metrics"]["validation_loss"] is None


def test_cli_train_bad_setting(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("task: program\nnops: 2\nbs: -1\n")
    assert main(["train", str(cfg), "--out", str(tmp_path / "run")]) == 2
    assert "bs=-1" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_short_run_learns_two_operations(tmp_path):
    """The whole stack learns: the 2-op task to near-zero validation error in about a minute."""
    s = resolve(dict(task="program", nops=2, l=3, ch=64, ks=13, dil="3,5,1", attn="0,0,T", lr=2e-3,
                     samples=120_000, epoch=20_000, threads=2, progress=False,
                     **{"val-every": 120_000, "val-count": 2000}))
    result = train_mod.run(s, tmp_path)
    assert result["metrics"]["validation_sample_error%"] < 5


@pytest.mark.slow
def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    """A real `vslm train` process killed with SIGKILL after its first checkpoint resumes exactly."""
    import signal
    import subprocess
    import sys
    import time

    settings = dict(TINY, samples=8192, **{"val-every": 1024})
    args = [f"{k}={v}" for k, v in settings.items() if k not in ("threads", "progress")] + ["threads=1"]
    full = train_mod.run(resolve(settings), tmp_path / "a")
    cmd = [sys.executable, "-m", "vslm.cli", "train", "--out", str(tmp_path / "b"), "--set", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt, end = tmp_path / "b" / "checkpoint.pt", time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.exists() and not (tmp_path / "b" / "metrics.json").exists()
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    resumed = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert metrics_of(resumed) == metrics_of(full)


def test_bucket_order_keeps_batches_and_sorts_windows():
    import numpy as np

    lengths = np.random.default_rng(0).integers(5, 30, 1000)
    order = train_mod.bucket_order(lengths, 64, 4, np.random.default_rng(1))
    assert sorted(order.tolist()) == list(range(1000))  # a permutation
    assert lengths[order[-40:]].min() >= lengths[order[768:-40]].max()  # the short batch stays last
    for w in range(0, 1000, 256):  # each window's batches hold that window's samples, in length ranges
        window = order[w:w + 256]
        assert set(window.tolist()) == set(range(w, min(w + 256, 1000)))
        batches = [lengths[window[i:i + 64]] for i in range(0, len(window), 64)]
        spans = sorted((b.min(), b.max()) for b in batches)
        assert all(hi <= lo2 for (_, hi), (lo2, _) in zip(spans, spans[1:]))


def test_options_enter_the_run_key_only_when_set():
    from vslm.settings import run_key, run_spec

    base = run_key(resolve(TINY))
    spec = run_spec(resolve(TINY))  # also the train job's params
    assert not {"bucket", "compile"} & set(spec) and spec["threads"] == 1 and resolve(spec) == resolve(TINY)
    assert run_key(resolve(dict(TINY, bucket=0, compile=False))) == base
    assert len({base, run_key(resolve(dict(TINY, bucket=4))), run_key(resolve(dict(TINY, compile=True)))}) == 3


def test_bucketed_run_trains_differently(tmp_path):
    settings = resolve(dict(TINY, bucket=4))
    full = train_mod.run(settings, tmp_path / "a")
    assert full["status"] == "done" and full["samples"] == 1536
    assert metrics_of(full) != metrics_of(train_mod.run(resolve(TINY), tmp_path / "c"))


@pytest.mark.slow
def test_compiled_run_matches_eager(tmp_path):
    """torch.compile changes float rounding only: the same run's metrics agree closely."""
    eager = train_mod.run(resolve(TINY), tmp_path / "a")["metrics"]
    compiled = train_mod.run(resolve(dict(TINY, compile=True)), tmp_path / "b")["metrics"]
    assert compiled["validation_loss"] == pytest.approx(eager["validation_loss"], rel=1e-4)
    assert compiled["validation_error%_exact"] == pytest.approx(eager["validation_error%_exact"], abs=0.2)


def test_compile_without_a_compiler_is_a_settings_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(train_mod.shutil, "which", lambda name: None)
    cfg = tmp_path / "s.yaml"
    cfg.write_text("task: program\nnops: 2\ncompile: true\n")
    assert main(["train", str(cfg), "--out", str(tmp_path / "run")]) == 2
    assert "compile=true" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_run_directory_is_owned_by_its_run(tmp_path, capsys):
    first = train_mod.run(resolve(TINY), tmp_path / "a")
    before = (tmp_path / "a" / "metrics.json").read_text()
    cfg = tmp_path / "s.yaml"
    cfg.write_text("task: program\nlen: 3\nnops: 1\nl: 3\nch: 16\nks: 5\nsamples: 512\nepoch: 1024\n")
    assert main(["train", str(cfg), "--out", str(tmp_path / "a")]) == 2  # holds another run
    err = capsys.readouterr().err
    assert f"holds run {first['run_key']}" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "a" / "metrics.json").read_text() == before


def test_concurrent_writer_is_locked_out(tmp_path):
    from vslm.rundir import RunDirError, owned

    key = train_mod.run_key(resolve(TINY))
    with owned(tmp_path / "r", key):
        with pytest.raises(RunDirError, match="another process is training into it"):
            train_mod.run(resolve(TINY), tmp_path / "r")
    assert train_mod.run(resolve(TINY), tmp_path / "r")["status"] == "done"  # released


def test_disk_full_is_one_line_and_leaves_no_temp_file(tmp_path, monkeypatch):
    """The checkpoint is serialised in memory, so a full disk fails in the plain write (one line),
    never inside torch's zip writer (whose error would be 'unexpected pos')."""
    import errno
    import io

    import vslm.files as files
    import vslm.rundir as rundir

    class Full(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    real_fdopen = files.os.fdopen
    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: (real_fdopen(fd, mode).close(), Full())[1])
    with pytest.raises(files.FileError, match="no space left.*resumes from its last checkpoint"):
        rundir.save_checkpoint(tmp_path / "checkpoint.pt", {"x": 1})
    assert list(tmp_path.iterdir()) == []


def test_crafted_or_incomplete_checkpoint_is_unusable_not_run(tmp_path):
    import torch

    from vslm.rundir import load_checkpoint

    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    key = train_mod.run_key(resolve(TINY))
    torch.save({"run_key": key, "x": Payload()}, tmp_path / "evil.pt")
    state, problem = load_checkpoint(tmp_path / "evil.pt", key)
    assert state is None and problem.startswith("unreadable") and not (tmp_path / "pwned").exists()
    torch.save({"run_key": key, "model": {}}, tmp_path / "partial.pt")
    state, problem = load_checkpoint(tmp_path / "partial.pt", key)
    assert state is None and problem.startswith("incomplete (no opt")
