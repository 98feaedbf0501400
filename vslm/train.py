"""One training run (one cell, one trial), as the original trained it.

AdamW (lr 5e-4, weight decay 0.01), batch 64, cosine decay to 0 over
sched-samples / bs steps with no warmup, cross-entropy over all positions,
optional gradient value clipping; epochs of 100,000 fresh samples (short last
batch); validation every val-every samples and at the end. The run directory
holds metrics.json, curve.csv, examples.txt/png, a checkpoint to resume from and, once
done, model.pt (the final weights: a state dict with the run key).
"""
from __future__ import annotations

import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .examples import examples_png, examples_text
from .files import atomic_write, read_json, write_json
from .metrics import EXACT_NAMES, NAMES, Accumulator, batch_stats
from .models import build_model, count_params
from .rundir import load_checkpoint, owned, save_checkpoint
from .settings import SettingsError, run_key
from .tasks import Samples, train_stream, validation_set
from .tf32 import use_tf32_convs

CURVE_EVERY = 10_000  # samples between training-curve rows
LOG_BATCHES = 16  # the original logged training metrics every 16 batches (1,024 samples)
CHECKPOINT_SECONDS = 120


TRAIN_RETRIES = 1  # a pipeline job that raises is retried this often before it is recorded as failed


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SettingsError("device", name, "CUDA is not available on this machine")
    return torch.device(name)


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 autocast runs natively here (oneDNN has no bf16 LSTM or conv path without it)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def to_batch(s: Samples, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Target and masked input, cut to the longest text of the batch (the rest is space padding)."""
    width = int(s.length.max())
    target = torch.from_numpy(s.text[:, :width].astype(np.int64))
    masked = torch.from_numpy(s.masked()[:, :width].astype(np.int64))
    return target.to(device, non_blocking=True), masked.to(device, non_blocking=True)


def bucket_order(lengths: np.ndarray, bs: int, window: int, gen: np.random.Generator) -> np.ndarray:
    """Sample order for length bucketing: each window of `window` batches is sorted by length
    and its full batches shuffled; batch boundaries stay where they were (short batches last)."""
    order = []
    for start in range(0, len(lengths), window * bs):
        idx = start + np.argsort(lengths[start:start + window * bs], kind="stable")
        full = len(idx) // bs
        batches = idx[: full * bs].reshape(full, bs)[gen.permutation(full)]
        order += [batches.ravel(), idx[full * bs:]]
    return np.concatenate(order)


def git_commit(where: Path | None = None) -> tuple[str | None, bool | None]:
    """The commit of the checkout at `where` (default: the working directory) and whether its
    tracked files differ from it (None: no git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=where)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10, cwd=where)
    except (OSError, subprocess.SubprocessError):
        return None, None
    if head.returncode:
        return None, None
    return head.stdout.strip(), bool(dirty.stdout.strip())


class Run:
    """One training run into its run directory: the original's loop (AdamW, its schedule, its
    validation points) with a checkpoint to resume from (`train`), then its outputs (`finish`:
    `result`, then `write_outputs`). Settings are resolved ones (`vslm.settings.resolve`)."""

    def __init__(self, settings: dict, out: Path, log=print):
        """The model, optimizer, validation set and training stream of `settings`, seeded; options
        this machine cannot run (compile without a compiler, bf16 without its instructions) refused."""
        self.s, self.out, self.log = settings, Path(out), log
        self.key = run_key(settings)
        self.device = pick_device(settings["device"])
        if settings["threads"]:
            torch.set_num_threads(settings["threads"])
        # Denormal floats (softmax tails of the tied head) slow CPU matmuls about 2x;
        # flushing them changes only values below 1.2e-38.
        torch.set_flush_denormal(True)
        torch.manual_seed(settings["seed"])
        self.model = build_model(settings).to(self.device)
        if settings["precision"] == "tf32":
            use_tf32_convs(self.model)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=settings["lr"], weight_decay=settings["wd"])
        if settings["compile"] and self.device.type == "cpu" and not any(map(shutil.which, ("g++", "clang++"))):
            raise SettingsError("compile", True, "torch.compile on the CPU needs a C++ compiler (g++ or clang++)")
        if settings["precision"] == "bf16" and not bf16_supported(self.device):
            raise SettingsError("precision", "bf16", f"this {self.device.type.upper()} has no bfloat16 instructions "
                                "(AVX512-BF16 or AMX on a CPU); use fp32")
        self.forward_loss = torch.compile(self._forward_loss) if settings["compile"] else self._forward_loss
        self.validation = validation_set(settings)
        self.stream = train_stream(settings, self.validation)
        self.samples = self.step = self.epoch = self.batch_in_epoch = 0
        self.train_time = 0.0
        self.curve: list[dict] = []
        self.train_acc = Accumulator()  # since the last curve row
        self.log_acc, self.last_log = Accumulator(), Accumulator()  # the original's last logged values
        self.last_validation: dict = {}
        self.status = "running"

    # ------------------------------------------------------------ state

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def state(self) -> dict:
        """Everything `resume` needs to continue exactly where the run stopped."""
        return {"run_key": self.key, "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "samples": self.samples, "step": self.step, "epoch": self.epoch,
                "batch_in_epoch": self.batch_in_epoch, "train_time": self.train_time, "curve": self.curve,
                "train_acc": self.train_acc.state(), "log_acc": self.log_acc.state(),
                "last_log": self.last_log.state(), "last_validation": self.last_validation}

    def resume(self) -> None:
        """Continue from this run's checkpoint, if it has a usable one (else start over, saying why)."""
        state, problem = load_checkpoint(self.checkpoint_path, self.key)
        if problem:
            bad = self.checkpoint_path.with_name("checkpoint.pt.unusable")
            self.checkpoint_path.replace(bad)
            self.log(f"checkpoint {self.checkpoint_path} is {problem}: kept as {bad.name}, starting from scratch")
            return
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        for k in ("samples", "step", "epoch", "batch_in_epoch", "train_time", "curve", "last_validation"):
            setattr(self, k, state[k])
        for name in ("train_acc", "log_acc", "last_log"):
            getattr(self, name).load(state[name], self.device)
        self.log(f"resuming {self.key} at {self.samples:,} samples")

    # ------------------------------------------------------------ steps

    def lr_at(self, step: int) -> float:
        total = max(1, self.s["sched-samples"] // self.s["bs"])
        return self.s["lr"] * (1 + math.cos(math.pi * step / total)) / 2

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.s["precision"] == "bf16")

    def _forward_loss(self, target, masked):
        with self.autocast():
            logits = self.model(masked)
        return batch_stats(logits, target, masked)

    def train_step(self, target, masked) -> torch.Tensor:
        self.model.train(True)
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(self.step)
        loss, vec = self.forward_loss(target, masked)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.s["gc"]:
            torch.nn.utils.clip_grad_value_(self.model.parameters(), self.s["gc"])
        self.opt.step()
        return vec

    @torch.no_grad()
    def predict(self, part: Samples):
        """-> (logits, target, masked input) of one validation batch, in the validation mode."""
        self.model.train(self.s["valmode"] == "train")
        target, masked = to_batch(part, self.device)
        with self.autocast():
            return self.model(masked), target, masked

    def validate(self) -> dict:
        acc, bs = Accumulator(), self.s["bs"]
        for i in range(0, len(self.validation), bs):
            acc.add(batch_stats(*self.predict(self.validation.take(slice(i, i + bs))))[1])
        values = {f"validation_{k}": v for k, v in acc.means().items()}
        values.update({f"validation_{k}_exact": v for k, v in acc.exact().items()})
        return values

    # ------------------------------------------------------------ the loop

    def batches(self):
        """Training batches from the current position on, each epoch regenerated from its seed."""
        bs, n = self.s["bs"], self.s["epoch"]
        while True:
            data = self.stream.epoch(self.epoch)
            if self.s["bucket"]:
                gen = np.random.default_rng([self.s["seed"], self.epoch, 1])
                data = data.take(bucket_order(data.length, bs, self.s["bucket"], gen))
            while self.batch_in_epoch * bs < n:
                i = self.batch_in_epoch * bs
                yield data.take(slice(i, min(i + bs, n)))
                self.batch_in_epoch += 1
            self.epoch, self.batch_in_epoch = self.epoch + 1, 0

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def curve_row(self, split: str, values: dict) -> None:
        row = {"samples": self.samples, "split": split, "train_time_s": round(self.train_time, 3)}
        row.update({n: values[f"{split}_{n}"] for n in NAMES})
        self.curve.append(row)

    def train(self, progress=None) -> dict:
        budget, every = self.s["samples"], self.s["val-every"]
        last_ckpt = time.monotonic()
        t0 = time.perf_counter()
        for part in self.batches():
            if self.samples >= budget:
                break
            part = part.take(slice(0, budget - self.samples))
            target, masked = to_batch(part, self.device)
            vec = self.train_step(target, masked)
            self.train_acc.add(vec)
            self.log_acc.add(vec)
            if self.log_acc.batches == LOG_BATCHES:
                self.last_log, self.log_acc = self.log_acc, Accumulator()
            before, self.samples, self.step = self.samples, self.samples + len(part), self.step + 1
            if progress:
                progress.update(len(part))
            crossed_log = self.samples // CURVE_EVERY > before // CURVE_EVERY or self.samples >= budget
            crossed_val = self.samples // every > before // every or self.samples >= budget
            if not (crossed_log or crossed_val):
                continue
            self.sync()
            self.train_time += time.perf_counter() - t0
            means = self.train_acc.means()
            self.train_acc = Accumulator()
            self.curve_row("train", {f"train_{k}": v for k, v in means.items()})
            if not math.isfinite(means["loss"]):
                self.status = "diverged"
                self.log(f"{self.key}: loss is {means['loss']} at {self.samples:,} samples: diverged")
                break
            if crossed_val:
                values = self.validate()
                self.last_validation = {"samples": self.samples, **values}
                self.curve_row("validation", values)
                self.report(values, progress)
            if crossed_val or time.monotonic() - last_ckpt > CHECKPOINT_SECONDS:
                self.batch_in_epoch += 1  # the checkpoint resumes after this batch
                save_checkpoint(self.checkpoint_path, self.state())
                self.batch_in_epoch -= 1
                last_ckpt = time.monotonic()
            t0 = time.perf_counter()
        if self.status == "running":
            self.status = "done"
        return self.finish()

    def report(self, values: dict, progress) -> None:
        text = (f"{self.samples:>10,} samples  val loss {values['validation_loss']:.4g}  "
                f"mask err {values['validation_mask_error%']:.3f}%  "
                f"sample err {values['validation_sample_error%']:.3f}%")
        if progress:
            progress.set_postfix_str(text.split("samples  ")[1])
        else:
            rate = self.samples / self.train_time if self.train_time else 0.0
            left = (self.s["samples"] - self.samples) / rate if rate else 0.0
            self.log(f"{self.key} {text}  {_clock(self.train_time)} elapsed, {rate:,.0f} samples/s, "
                     f"ETA {_clock(left)}")

    # ------------------------------------------------------------ outputs

    def finish(self) -> dict:
        """The run's result, written with its outputs; the checkpoint goes (nothing left to resume)."""
        result = self.result()
        self.write_outputs(result)
        self.checkpoint_path.unlink(missing_ok=True)
        return result

    def result(self) -> dict:
        """metrics.json's content: status, final validation and train metrics, settings, provenance."""
        if self.status == "diverged":
            values = dict.fromkeys([f"validation_{n}" for n in NAMES] + [f"validation_{n}_exact" for n in EXACT_NAMES])
        elif self.last_validation.get("samples") == self.samples:
            values = {k: v for k, v in self.last_validation.items() if k != "samples"}
        else:
            values = self.validate()
        logged = self.last_log.means() if self.last_log.batches else {}
        metrics = dict(values)
        metrics.update({f"train_{n}": logged.get(n) for n in NAMES})
        metrics.update({"model_params": count_params(self.model), "train_time_s": self.train_time,
                        "throughput": self.samples / self.train_time if self.train_time else None})
        commit, dirty = git_commit()
        result = {
            "run_key": self.key, "status": self.status, "samples": self.samples, "metrics": metrics,
            "settings": {k: v for k, v in self.s.items() if k not in ("progress",)},
            "provenance": {"vslm": __version__, "git_commit": commit, "git_dirty": dirty, "host": socket.gethostname(),
                           "device": str(self.device), "device_name": device_name(self.device),
                           "threads": torch.get_num_threads(), "torch": torch.__version__,
                           "python": platform.python_version(), "slurm_job": os.environ.get("SLURM_JOB_ID"),
                           "gpu_slot": os.environ.get("VSLM_GPU_SLOT"),
                           "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        }
        return result

    def write_outputs(self, result: dict) -> None:
        """curve.csv, validation examples (text and image), the final weights of a done run, and
        metrics.json last: a run directory with metrics.json is a finished one."""
        self.write_curve()
        part = self.validation.take(slice(0, self.s["bs"]))
        logits, target, masked = (t.float().cpu().numpy() if t.is_floating_point() else t.cpu().numpy()
                                  for t in self.predict(part))
        output = logits.argmax(-1)
        atomic_write(self.out / "examples.txt", examples_text(target, masked, output, part.length))
        atomic_write(self.out / "examples.png", examples_png(target, masked, output, part.length))
        if self.status == "done":  # the final weights, for checks that need no retraining
            save_checkpoint(self.out / "model.pt", {"run_key": self.key, "model": self.model.state_dict()})
        write_json(self.out / "metrics.json", result)

    def write_curve(self) -> None:
        cols = ["samples", "split", *NAMES, "train_time_s"]
        lines = [",".join(cols)]
        for r in self.curve:
            lines.append(",".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]) for c in cols))
        atomic_write(self.out / "curve.csv", "\n".join(lines) + "\n")


def _clock(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{sec:02d}"


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model and family (machines of one kind differ: docs/performance.md)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            head = f.read(8192)  # the first processor's entry
    except OSError:
        head = ""
    model, family = (re.search(rf"^{key}\s*:\s*(.+)$", head, re.M) for key in ("model name", "cpu family"))
    if model and family:
        return f"{model[1].strip()} (family {family[1].strip()})"
    return platform.processor() or platform.machine()


def run(settings: dict, out: Path, log=print) -> dict:
    """Train one run into `out`, resuming from its checkpoint; a finished run is returned as is.
    `out` must be empty or this run's own directory (`rundir.owned`)."""
    out = Path(out)
    with owned(out, run_key(settings)):
        done = out / "metrics.json"
        if done.exists():
            result = read_json(done)
            if result.get("status") in ("done", "diverged"):
                log(f"{out}: already finished ({result['status']})")
                return result
        r = Run(settings, out, log)
        r.resume()
        progress = None
        if settings["progress"] and sys.stderr.isatty():
            from tqdm import tqdm
            progress = tqdm(total=settings["samples"], initial=r.samples, unit="sample", unit_scale=True)
        try:
            return r.train(progress)
        finally:
            if progress:
                progress.close()
