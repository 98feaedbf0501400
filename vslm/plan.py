"""What a scale costs: runs, finished runs, samples and estimated CPU-hours left (`vslm plan`)."""
from __future__ import annotations

from pathlib import Path

from .models import MODELS, build_model, count_params
from .rundir import load_result
from .tasks import make_task


def estimate_cpu_seconds(settings: dict) -> float:
    """Rough training cost: 6 FLOPs per parameter and position (forward + backward), at the model
    module's EFFECTIVE_GFLOPS: one thread per job, two jobs side by side on the 2-core development
    machine (torch 2.13 CPU), fitted to the cpu-scale runs' measured train times (conv, lstm) and
    `vslm bench` (mamba). Plan estimates only."""
    params = count_params(build_model(settings))
    length = make_task(settings).max_length
    return settings["samples"] * 6 * params * length / (MODELS[settings["model"]].EFFECTIVE_GFLOPS * 1e9)


def plan_table(experiments: dict, root: Path = Path(".")) -> str:
    """Per experiment: cells, runs, runs not shared with an earlier experiment, how many of
    those are finished (a metrics.json under `root`), and the samples and estimated CPU-hours
    of the unfinished ones. A last line scales the estimate by the measured/estimated training
    time of the finished runs (a calibration to the machine that trained them)."""
    from tabulate import tabulate

    rows, seen, total, finished = [], set(), [0, 0, 0, 0.0], []
    for name, e in experiments.items():
        new = [(run.key, run.settings) for c in e.cells for run in c.runs if run.key not in seen]
        seen.update(k for k, _ in new)
        results = {k: load_result(k, root) for k, _ in new}
        left = [s for k, s in new if results[k] is None]
        finished += [(r["metrics"]["train_time_s"], s) for k, s in new
                     if (r := results[k]) and r.get("status") == "done"]
        hours = sum(estimate_cpu_seconds(s) for s in left) / 3600
        samples = sum(s["samples"] for s in left)
        done = len(new) - len(left)
        rows.append([name, len(e.cells), len(e.keys), len(new), done, f"{samples:,}", f"{hours:.2f}"])
        total = [total[0] + len(new), total[1] + done, total[2] + samples, total[3] + hours]
    rows.append(["total", "", "", total[0], total[1], f"{total[2]:,}", f"{total[3]:.2f}"])
    text = tabulate(rows, headers=["experiment", "cells", "runs", "new runs", "done", "samples left",
                                   "est. CPU-hours left"])
    if finished:
        ratio = sum(t for t, _ in finished) / sum(estimate_cpu_seconds(s) for _, s in finished)
        text += (f"\n{len(finished)} finished run(s) took {ratio:.2f}x their estimated training time: "
                 f"{total[3] * ratio:.1f} CPU-hours left at that rate")
    return text
