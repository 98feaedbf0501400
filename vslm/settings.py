"""Run settings: one flat dict per run, keyed as in the article's tables.

`parse_assignments` turns ``key=value`` strings into raw values, `resolve` fills
defaults, normalises (per-layer lists, ranges) and validates them, and `run_key`
hashes the resolved settings into the content address of a run directory.
Every problem raises `SettingsError`, which names the key and the value.
"""
from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from . import models, tasks
from .keys import Key, SettingsError, boolean, choice, integer, keyed, number, upto


def _collect(registry: dict, kind: str, help: str) -> dict:
    """The `kind` key (one of the registry's names) and every registered module's own keys."""
    table = {kind: Key(kind, choice(list(registry)), help)}
    for module in registry.values():
        for name, key in module.KEYS.items():
            table.setdefault(name, key)
    return table


@functools.lru_cache
def _tables(registered: tuple) -> dict:
    """Key tables of the registries as they are (`registered` names them, so a new entry is seen)."""
    return {"task": _collect(tasks.TASKS, "task", "selcopy (selective copying) or program (very selective copying)"),
            "model": _collect(models.MODELS, "model", "conv (bidirectional), lstm or mamba (causal)")}


def _registered() -> tuple:
    return tuple(tasks.TASKS.items()) + tuple(models.MODELS.items())


def task_key_table() -> dict:
    return _tables(_registered())["task"]


def model_key_table() -> dict:
    return _tables(_registered())["model"]


VALIDATION_KEYS = keyed(
    Key("val-count", integer, "validation set size"),
    Key("val-seed", lambda k, v: integer(k, v, 0), "validation set seed (python random.Random)"),
)
TRAIN_KEYS = keyed(
    Key("samples", upto(10**11), "training budget in samples (the article's 'steps')"),
    Key("sched-samples", lambda k, v: integer(k, v, 0), "samples the cosine schedule spans (0 = samples)"),
    Key("bs", upto(65536), "batch size"),
    Key("lr", number, "AdamW learning rate"),
    Key("wd", number, "AdamW weight decay"),
    Key("gc", number, "gradient value clipping (0 = none)"),
    Key("epoch", integer, "samples per training epoch (dedup window, short last batch)"),
    Key("val-every", integer, "validate every N samples (and at the end)"),
    Key("valmode", choice(["train", "eval"]), "module mode during validation (original: train, "
        "i.e. BN batch stats)"),
    Key("precision", choice(["fp32", "bf16", "tf32"]), "fp32 (faithful), bf16 autocast, or tf32: every conv's "
        "operands rounded to TF32, as cuDNN's default on a GPU"),
    Key("compile", boolean, "torch.compile the forward pass and loss (an option; default off)", keyed_unless=False),
    Key("bucket", lambda k, v: integer(k, v, 0),
        "length bucketing: sort each window of N batches by length (0 = off: the original's padding)",
        keyed_unless=0),
    Key("seed", lambda k, v: integer(k, v, 0), "seed of weight init and training stream (the trial)"),
)
EXEC_KEYS = keyed(
    Key("device", choice(["auto", "cpu", "cuda"]), "auto = CUDA when available", in_run_key=False),
    Key("threads", lambda k, v: integer(k, v, 0), "torch threads (0 = torch default)", in_run_key=False),
    Key("progress", boolean, "show a progress bar on a terminal", in_run_key=False),
)

COMMON_DEFAULTS = {
    "task": "program", "model": "conv",
    "val-count": 10_000, "val-seed": 23,
    "samples": 1_000_000, "sched-samples": 0, "bs": 64, "lr": 5e-4, "wd": 0.01, "gc": 0.0,
    "epoch": 100_000, "val-every": 100_000, "valmode": "train", "precision": "fp32",
    "compile": False, "bucket": 0, "seed": 0,
    "device": "auto", "threads": 0, "progress": True,
}

TRAIN_VERSION = 2  # the training loop's stamp (each task and model module has its own VERSION)


def all_keys() -> dict:
    return _all_keys(_registered())


@functools.lru_cache
def _all_keys(registered: tuple) -> dict:
    return {**task_key_table(), **VALIDATION_KEYS, **model_key_table(), **TRAIN_KEYS, **EXEC_KEYS}


def version_stamps() -> dict:
    """Bump a stamp when a code change alters results: it enters the run key of every run that
    uses the component, so exactly those runs are scheduled again."""
    return {**{f"task:{n}": m.VERSION for n, m in tasks.TASKS.items()},
            **{f"model:{n}": m.VERSION for n, m in models.MODELS.items()}, "train": TRAIN_VERSION}


def _lookup(key: str) -> Key:
    overridable = {k for m in tasks.TASKS.values() for k in m.VALIDATION_KEYS}
    base = key[4:] if key.startswith("val-") and key[4:] in overridable else key
    table = all_keys()
    if base not in table:
        raise SettingsError(key, "", "unknown setting (see `vslm train --help`)")
    k = table[base]
    return Key(key, k.parse, k.help, k.in_run_key) if base != key else k


def parse_value(key: str, raw: Any) -> Any:
    """One setting's value in normalised form (per-layer lists not yet expanded)."""
    return _lookup(key).parse(key, raw)


def parse_assignments(pairs: list[str]) -> dict:
    """``["l=3", "dil=3,5,1"]`` -> raw dict (values parsed by `resolve`)."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SettingsError(pair, "", "expected key=value")
        key, value = pair.split("=", 1)
        try:
            _lookup(key.strip())
        except SettingsError:
            raise SettingsError(key.strip(), value.strip(), "unknown setting (see `vslm train --help`)") from None
        out[key.strip()] = value.strip()
    return out


def task_keys(task: str) -> list[str]:
    return ["task", *tasks.TASKS[task].KEYS]


def model_keys(model: str) -> list[str]:
    return ["model", *models.MODELS[model].KEYS]


def resolve(raw: dict, data: bool = True) -> dict:
    """Defaults + validation + normalisation; returns a new dict in a fixed key order. `data`:
    also check that the task's generator can supply the training and validation sets (not needed
    to build a model, e.g. to count its parameters)."""
    raw = dict(raw)
    for key in raw:
        _lookup(key)
    task = task_key_table()["task"].parse("task", raw.get("task", COMMON_DEFAULTS["task"]))
    model = model_key_table()["model"].parse("model", raw.get("model", COMMON_DEFAULTS["model"]))
    task_module, model_module = tasks.TASKS[task], models.MODELS[model]
    allowed = {*task_keys(task), *model_keys(model), *VALIDATION_KEYS, *TRAIN_KEYS, *EXEC_KEYS}
    allowed |= {"val-" + k for k in task_module.VALIDATION_KEYS}
    for key in raw:
        if key not in allowed:
            raise SettingsError(key, raw[key], f"does not apply to task={task} model={model}")
    defaults = {**COMMON_DEFAULTS, **task_module.DEFAULTS, **model_module.DEFAULTS}
    out = {}
    for key in [*task_keys(task), *model_keys(model), *VALIDATION_KEYS, *TRAIN_KEYS, *EXEC_KEYS]:
        out[key] = _lookup(key).parse(key, raw.get(key, defaults[key]))
    for key in sorted(k for k in raw if k.startswith("val-") and k[4:] in task_module.VALIDATION_KEYS):
        out[key] = _lookup(key).parse(key, raw[key])
    if hasattr(model_module, "normalize"):
        model_module.normalize(out, raw)
    if out["sched-samples"] == 0:
        out["sched-samples"] = out["samples"]
    if data:
        tasks.check_task(out)  # what the generator can satisfy
    return out


def _in_key(key: str, value: Any) -> bool:
    k = _lookup(key)
    return k.in_run_key and k.keyed_unless != value


def run_spec(settings: dict) -> dict:
    """What defines a run: its result-relevant settings (options at their neutral value left
    out) and execution settings away from their defaults. `resolve(run_spec(s)) == s`."""
    return {k: v for k, v in settings.items()
            if _in_key(k, v) or (not _lookup(k).in_run_key and v != COMMON_DEFAULTS[k])}


def split_spec(settings: dict) -> tuple[dict, dict]:
    """`run_spec` as (what defines the result, the execution settings): the first is fixed by the
    run key, so only the second can change for a done run, and it must never rerun it."""
    spec = run_spec(settings)
    return ({k: v for k, v in spec.items() if k not in EXEC_KEYS},
            {k: v for k, v in spec.items() if k in EXEC_KEYS})


def run_key(settings: dict) -> str:
    """Content address of a run: hash of its result-relevant settings and the version stamps."""
    relevant = {k: v for k, v in settings.items() if _in_key(k, v)}
    versions = version_stamps()
    stamps = {c: versions[c] for c in (f"task:{settings['task']}", f"model:{settings['model']}", "train")}
    blob = json.dumps({"settings": relevant, "versions": stamps}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def format_samples(samples: int) -> str:
    """A budget for display: 3900064 -> '3.9M'."""
    return f"{samples / 1e6:.4g}M"


def format_value(key: str, value: Any) -> str:
    """Display form used in tables and the CLI: lists comma-joined, a uniform dilation as one value."""
    if isinstance(value, list):
        if key == "dil" and len(set(value)) == 1:
            return str(value[0])
        return ",".join(str(x) for x in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
