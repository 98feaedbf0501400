"""Training throughput of reference configurations, side by side in one process:

- plain: a loop written like the original (per-sample Python generation, batches padded
  to the longest sample, eager fp32, batch 64, denormals not flushed);
- fp32: our faithful training loop (numpy stream, the same model and metrics);
- the options (their effect on metrics is measured separately, see the README): torch.compile,
  length bucketing, both, and bf16 autocast;
- trials×4: four trials of the conv model trained as one batched model (torch.func.vmap over
  stacked weights; AdamW is elementwise, so each trial's update is its own), samples of all
  trials counted.

Modes are timed in interleaved rounds (best round reported), on CUDA when torch sees it, else
on the CPU. GFLOP/s come from torch's FLOP counter on one training step (at the task's longest
length, so bucketed modes count padding they skip), the peak from large float32 convolutions and
a matmul on the same thread count. "kernels" is the share of the step's time spent inside
convolution and matmul kernels (torch profiler): what the loop around them costs.
`convs_alone` times a conv model's convolutions by themselves at a step's shapes: the ceiling
of the step's GFLOP/s that no loop around them can beat.
"""
from __future__ import annotations

import copy
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from tabulate import tabulate
from torch.profiler import profile
from torch.utils.flop_counter import FlopCounterMode

from .models import MODELS, build_model
from .settings import SettingsError, resolve
from .tasks import Samples, make_task
from .train import Run, pick_device, to_batch

DEVICE = pick_device("auto")

CONFIGS = {
    "conv 3L/64/ks13 attn 0,0,T, 3 ops": dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13,
                                              dil="3,5,1", attn="0,0,T"),
    "conv 6L/64/ks9, selcopy 40": dict(task="selcopy", l=6, ks=9),
    "conv 18L/64/ks9, 5 ops": dict(task="program", nops=5, l=18, ks=9,
                                   dil="1,2,3,4,5,1,2,3,4,5,1,2,3,4,5,1,1,1"),
    "lstm 6L/64, 2-5 ops": dict(task="program", nops="2,5", model="lstm"),
    "mamba 6L/32, 2-5 ops": dict(task="program", nops="2,5", model="mamba"),
}


MODES = {"fp32": {}, "compile": {"compile": True}, "bucket": {"bucket": 16},
         "compile+bucket": {"compile": True, "bucket": 16}, "bf16": {"precision": "bf16"}}
KERNELS = ("convolution", "mm", "bmm", "addmm", "baddbmm", "matmul", "linear", "lstm", "rnn", "scan")


def configs(only: list[str] | None, conv_only: bool = False) -> list[str]:
    """Names of the reference configurations containing one of `only` (all if None)."""
    return [name for name, raw in CONFIGS.items()
            if (not only or any(o in name for o in only)) and not (conv_only and raw.get("model", "conv") != "conv")]


def _sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def _timed(step, seconds: float, warmup: int = 2) -> float:
    """samples/s of `step()` (returns samples done) over about `seconds`."""
    for _ in range(warmup):
        step()
    _sync()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n == 0:
        n += step()
    _sync()
    return n / (time.perf_counter() - t0)


def best_of_rounds(steps: dict, seconds: float, rounds: int) -> dict:
    """Each step's best rate over `rounds` interleaved rounds of seconds/rounds each (this shared
    VM drifts, so modes compared in one round see the same phase)."""
    best = dict.fromkeys(steps, 0.0)
    for _ in range(rounds):
        for mode, step in steps.items():
            best[mode] = max(best[mode], _timed(step, seconds / rounds, warmup=1))
    return best


def plain_loop(settings: dict):
    """The original's way: python generator per sample, encode and pad each batch, with the model
    run as the original ran it (its module's ORIGINAL_EXECUTION: for Mamba the sequential scan)."""
    settings = {**settings, **getattr(MODELS[settings["model"]], "ORIGINAL_EXECUTION", {})}
    task = make_task(settings)
    rng = random.Random(0)
    model = build_model(settings).to(DEVICE)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    bs, width = settings["bs"], task.answer_width

    def step():
        torch.set_flush_denormal(False)
        texts = [task.python_text(rng) for _ in range(bs)]
        longest = max(len(t) for t in texts)
        target = torch.tensor([list(t.ljust(longest).encode()) for t in texts])
        masked = torch.tensor([list((t[:-width] + "\0" * width).ljust(longest).encode()) for t in texts])
        logits = model(masked.to(DEVICE))
        loss = F.cross_entropy(logits.reshape(-1, 256), target.to(DEVICE).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return bs

    return step


def our_loop(settings: dict):
    r = Run(settings, out="/nonexistent", log=lambda *_: None)
    batches = r.batches()

    def step():
        torch.set_flush_denormal(True)
        part = next(batches)
        target, masked = to_batch(part, r.device)
        r.train_step(target, masked)
        return len(part)

    return step, r


def batched_trials_loop(settings: dict, trials: int = 4):
    """`trials` seeds of one conv cell as one vmapped model; batches padded to the longest of all."""
    runs = [Run({**settings, "seed": t}, out="/nonexistent", log=lambda *_: None) for t in range(trials)]
    params, buffers = torch.func.stack_module_state([r.model for r in runs])
    template = build_model(settings).to("meta")
    forward = torch.vmap(lambda p, b, x: torch.func.functional_call(template, (p, b), (x,)))
    opt = torch.optim.AdamW(params.values(), lr=settings["lr"], weight_decay=settings["wd"])
    streams = [r.batches() for r in runs]

    def step():
        torch.set_flush_denormal(True)
        parts = [next(s) for s in streams]
        joined = Samples(np.concatenate([p.text for p in parts]), np.concatenate([p.length for p in parts]),
                       parts[0].answer_width)
        target, masked = (t.view(trials, -1, t.shape[-1]) for t in to_batch(joined, DEVICE))
        logits = forward(params, buffers, masked)
        # mean over every position times trials = the sum of the trials' own mean losses
        loss = trials * F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return len(joined)

    return step, params


def kernel_share(step, steps: int = 6) -> float:
    """Fraction of the step time spent in convolution/matmul kernels (CPU self time, profiled)."""
    if DEVICE.type == "cuda":
        return float("nan")
    with profile() as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        wall = time.perf_counter() - t0
    busy = sum(e.self_cpu_time_total for e in prof.key_averages()
               if any(k in e.key.lower() for k in KERNELS) and not e.key.startswith(("autograd", "Optimizer")))
    return busy / 1e6 / wall


def step_flops(settings: dict) -> float:
    """FLOPs of one training step (forward + backward) at the task's longest length."""
    model = build_model(settings)
    x = torch.randint(0, 256, (settings["bs"], make_task(settings).max_length))
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x).reshape(-1, 256), x.reshape(-1)).backward()
    return counter.get_total_flops()


def peak_gflops(seconds: float = 1.0) -> float:
    """The machine's practical float32 limit: the best of large convolutions and a matmul."""
    best = 0.0
    with torch.no_grad():
        for b, c, length, k in ((256, 64, 64, 13), (64, 256, 256, 9), (32, 256, 128, 3)):
            conv = torch.nn.Conv1d(c, c, k, padding=k // 2).to(DEVICE)
            x = torch.randn(b, c, length, device=DEVICE)
            best = max(best, _timed(lambda conv=conv, x=x: (conv(x), 1)[1], seconds) * 2 * b * c * c * length * k / 1e9)
        a = torch.randn(2048, 2048, device=DEVICE)
        best = max(best, _timed(lambda: (a @ a, 1)[1], seconds) * 2 * 2048**3 / 1e9)
    return best


def _header(threads: int, peak: float) -> str:
    where = torch.cuda.get_device_name() if DEVICE.type == "cuda" else f"CPU, threads {threads}"
    return f"{where}, torch {torch.__version__}, fp32 conv peak {peak:.0f} GFLOP/s"


def conv_inputs(settings: dict) -> list:
    """The model's Conv1d layers, each with the input it gets in a training step."""
    model = build_model(settings).to(DEVICE)
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, i[0].detach())))
             for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    with torch.no_grad():
        model(torch.randint(0, 256, (settings["bs"], make_task(settings).max_length), device=DEVICE))
    for h in hooks:
        h.remove()
    return seen


def convs_alone(seconds: float = 3.0, threads: int = 1, only: list[str] | None = None, rounds: int = 3) -> str:
    """GFLOP/s (% of peak) of each conv config's plain and fp32 training steps beside its
    convolutions alone (forward and both backward kernels at the step's shapes, nothing else; in
    float32 and in bfloat16), timed in interleaved rounds: the kernels' own rate is the ceiling
    of the step's."""
    torch.set_num_threads(threads)
    peak, rows = peak_gflops(), []
    for name in configs(only, conv_only=True):
        settings = bench_settings(name, threads)
        inputs = conv_inputs(settings)
        steps = {"plain": plain_loop(settings), "fp32": our_loop(settings)[0],
                 "convs fp32": conv_step(inputs, torch.float32), "convs bf16": conv_step(inputs, torch.bfloat16)}
        with FlopCounterMode(display=False) as counter:
            steps["convs fp32"]()
        per_step, conv_flops = step_flops(settings), counter.get_total_flops()
        flops = {"plain": per_step / settings["bs"], "fp32": per_step / settings["bs"],
                 "convs fp32": conv_flops, "convs bf16": conv_flops}  # per sample / per conv step
        best = best_of_rounds(steps, seconds, rounds)
        gflops = [best[part] * flops[part] / 1e9 for part in steps]
        rows.append([name, len(inputs), f"{100 * conv_flops / per_step:.0f} %",
                     *(f"{g:.1f} ({100 * g / peak:.0f} %)" for g in gflops)])
    return _header(threads, peak) + "\n\n" + tabulate(
        rows, headers=["config", "convs", "convs' share of FLOPs", "plain step", "fp32 step",
                       "convs alone fp32", "convs alone bf16"], tablefmt="github")


def conv_step(inputs: list, dtype: torch.dtype):
    """One forward + backward of each conv at its recorded input, in `dtype`; returns 1 (step)."""
    layers = []
    for m, x in inputs:
        conv = copy.deepcopy(m).to(dtype)
        x = x.to(dtype).requires_grad_()
        layers.append((conv, x, torch.randn_like(conv(x))))

    def step():
        for conv, x, grad in layers:
            torch.autograd.backward(conv(x), grad)
        return 1

    return step


DATA_TASKS = {"program 5 letters / 5 ops": dict(task="program", len=5, nops=5),
              "program loose, stack ops": dict(task="program", len="2,5", nops="1,5", operators="all",
                                               format="loose"),
              "selcopy area 40": dict(task="selcopy")}


def data_bench(seconds: float = 2.0) -> str:
    """samples/s of the numpy training stream vs the original's per-sample Python generator."""
    rows = []
    for name, raw in DATA_TASKS.items():
        task = make_task(resolve(raw))
        rng, gen = random.Random(0), np.random.default_rng(0)
        python = _timed(lambda task=task, rng=rng: (task.python_text(rng), 1)[1], seconds)
        fast = _timed(lambda task=task, gen=gen: len(task.numpy_texts(gen, 8192)), seconds)
        rows.append([name, f"{python:,.0f}", f"{fast:,.0f}", f"{fast / python:.1f}"])
    return tabulate(rows, headers=["task", "python per-sample/s", "numpy/s", "×"], tablefmt="github")


def bench_settings(name: str, threads: int) -> dict:
    """A reference configuration as the benchmarks train it (small validation set, no bar)."""
    return resolve({**CONFIGS[name], "threads": threads, "progress": False, "val-count": 64})


def _job_throughput(args) -> float:
    name, threads, seconds = args
    torch.set_num_threads(threads)
    settings = bench_settings(name, threads)
    step, _ = our_loop(settings)
    return _timed(step, seconds, warmup=5)


def scheduling_bench(cores: int, seconds: float = 6.0, only: list[str] | None = None) -> str:
    """Total samples/s of `cores` CPU cores split into jobs × threads, all jobs side by side
    (processes), for each conv configuration: how the pipeline should spread its jobs."""
    import multiprocessing

    rows = []
    ctx = multiprocessing.get_context("spawn")
    for name in configs(only, conv_only=True):
        for threads in (t for t in range(1, cores + 1) if cores % t == 0):
            jobs = cores // threads
            with ctx.Pool(jobs) as pool:
                total = sum(pool.map(_job_throughput, [(name, threads, seconds)] * jobs))
            rows.append([name, f"{jobs} × {threads}", f"{total:,.0f}"])
    return tabulate(rows, headers=["config", "jobs × threads", "total samples/s"], tablefmt="github")


def main(seconds: float = 4.0, threads: int = 1, only: list[str] | None = None, rounds: int = 3) -> str:
    """The table: every mode of a config is timed in `rounds` interleaved rounds of
    seconds/rounds each and reported at its best round (this shared VM drifts by ±20 %)."""
    torch.set_num_threads(threads)
    peak = peak_gflops()
    rows = []
    for name in configs(only):
        settings = bench_settings(name, threads)
        per_sample = step_flops(settings) / settings["bs"]
        steps, refused = {"plain": plain_loop(settings)}, {}
        for mode, options in MODES.items():
            try:
                steps[mode], _ = our_loop({**settings, **options})
            except SettingsError as e:  # an option this machine cannot run (bf16 without its instructions)
                refused[mode] = str(e)
        if settings["model"] == "conv":
            steps["trials×4"], _ = batched_trials_loop(settings)
        for step in steps.values():
            _timed(step, 0, warmup=12)  # compiles, allocates
        best = best_of_rounds(steps, seconds, rounds)
        for mode, sps in best.items():
            share = kernel_share(steps[mode])
            rows.append([name, mode, f"{sps:,.0f}", f"{1000 * settings['bs'] / sps:.1f}", f"{sps / best['plain']:.2f}",
                         f"{sps * per_sample / 1e9:.1f}", f"{100 * sps * per_sample / 1e9 / peak:.0f} %",
                         f"{100 * share:.0f} %" if share == share else "–"])
        rows += [[name, mode, f"not run: {why}", "", "", "", "", ""] for mode, why in refused.items()]
    table = tabulate(rows, headers=["config", "mode", "samples/s", "ms/64 samples", "× plain", "GFLOP/s",
                                    "% of peak", "kernels"], tablefmt="github")
    return _header(threads, peak) + "\n\n" + table
