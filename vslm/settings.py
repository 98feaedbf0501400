"""Run settings: one flat dict per run, keyed as in the article's tables.

`parse_assignments` turns ``key=value`` strings into raw values, `resolve` fills
defaults, normalises (per-layer lists, ranges) and validates them, and `run_key`
hashes the resolved settings into the content address of a run directory.
Every problem raises `SettingsError`, which names the key and the value.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """A bad setting: the message names the key and the value."""

    def __init__(self, key: str, value: Any, reason: str):
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"setting {key}={_show(value)}: {reason}")


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------- value parsers


def _int(key, v, minimum=1, maximum=None):
    if isinstance(v, bool):
        raise SettingsError(key, v, "expected an integer")
    try:
        i = int(str(v).replace("_", ""))
    except ValueError:
        raise SettingsError(key, v, "expected an integer") from None
    if i < minimum:
        raise SettingsError(key, v, f"must be >= {minimum}")
    if maximum is not None and i > maximum:
        raise SettingsError(key, v, f"must be <= {maximum:,} (a very small language model)")
    return i


def _upto(maximum):
    return lambda k, v: _int(k, v, 1, maximum)


def _float(key, v, minimum=0.0):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise SettingsError(key, v, "expected a number") from None
    if not f >= minimum or f != f or f == float("inf"):
        raise SettingsError(key, v, f"must be a finite number >= {minimum}")
    return f


def _items(v) -> list:
    """A list from a YAML list, a comma string or a single value."""
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, str):
        return [s.strip() for s in v.strip("[]() ").split(",") if s.strip()]
    return [v]


def _range(key, v, minimum):
    """An int or an inclusive range ``lo,hi`` (returned as [lo, hi])."""
    items = [_int(key, x, minimum) for x in _items(v)]
    if len(items) == 1:
        return items[0]
    if len(items) != 2 or items[0] > items[1]:
        raise SettingsError(key, v, "expected N or a range lo,hi with lo <= hi")
    return items if items[0] != items[1] else items[0]


def _attn_entry(key, v):
    if v is True or str(v).strip().lower() in ("t", "true"):
        return "T"
    if v is False or str(v).strip().lower() in ("false",):
        return 0
    return _int(key, v, minimum=0)


def _choice(options):
    def parse(key, v):
        if str(v) not in options:
            raise SettingsError(key, v, f"expected one of {', '.join(options)}")
        return str(v)
    return parse


def _bool(key, v):
    if isinstance(v, bool):
        return v
    if str(v).lower() in ("1", "true", "yes", "on"):
        return True
    if str(v).lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(key, v, "expected true or false")


# ---------------------------------------------------------------- the key table


_ALWAYS = object()


@dataclass(frozen=True)
class Key:
    name: str
    parse: Callable[[str, Any], Any]
    help: str
    in_run_key: bool = True
    # Options added after results existed enter the run key only when set away from
    # this value, so adding an option keeps every existing run key.
    keyed_unless: Any = _ALWAYS


TASK_KEYS = {
    k.name: k for k in [
        Key("task", _choice(["selcopy", "program"]), "selcopy (selective copying) or program (very selective copying)"),
        Key("nitem", _int, "number of letters (selcopy: A.. in order; program: alphabet size)"),
        Key("area", _upto(100_000), "selcopy: width of the row the letters are scattered in"),
        Key("len", lambda k, v: _range(k, v, 1), "program: input length, N or lo,hi"),
        Key("nops", lambda k, v: _range(k, v, 0), "program: number of operations, N or lo,hi"),
        Key("operators", _choice(["all", "swap"]), "program: all = swap and stack ops (1 : 1/3 : 1/3), "
            "swap = swap only"),
        Key("format", _choice(["tight", "loose"]), "program: tight 'AB:1>2:BA' or the older loose 'AB: 1>2: BA'"),
    ]
}
VALIDATION_KEYS = {
    k.name: k for k in [
        Key("val-count", _int, "validation set size"),
        Key("val-seed", lambda k, v: _int(k, v, 0), "validation set seed (python random.Random)"),
    ]
}
MODEL_KEYS = {
    k.name: k for k in [
        Key("model", _choice(["conv", "lstm", "mamba"]), "conv (bidirectional), lstm or mamba (causal)"),
        Key("l", _upto(256), "number of layers"),
        Key("ch", _upto(8192), "channels (conv), hidden size (lstm), d_model (mamba)"),
        Key("ks", _upto(1023), "conv kernel size"),
        Key("dil", lambda k, v: [_int(k, x) for x in _items(v)], "conv dilation: one value or one per layer"),
        Key("attn", lambda k, v: [_attn_entry(k, x) for x in _items(v)],
           "attention per layer: 0 none, T linear attention, N = MultiheadAttention heads"),
        Key("qkv", _choice(["QK", "QV", "KV", "QKV"]), "tensors the layer's conv invents; the missing one is "
            "the layer input"),
        Key("attnact", _choice(["elu+1", "dpfp"]), "feature map of the linear attention"),
        Key("norm", _choice(["none", "bn"]), "bn = BatchNorm1d in every layer but the last"),
        Key("embedding", _choice(["default", "diagonal"]), "embedding init: N(0,1) or the 'diagonal hat' matrix"),
        Key("d_state", _upto(1024), "mamba state size"),
        Key("dtinit", _choice(["torch", "mamba"]), "mamba dt projection init: torch Linear default "
            "(original) or official Mamba"),
        Key("scan", _choice(["fused", "sequential"]), "mamba selective scan: fused (C++ kernel on CPU, "
            "hand-written backward elsewhere) or the original's loop"),
    ]
}
TRAIN_KEYS = {
    k.name: k for k in [
        Key("samples", _upto(10**11), "training budget in samples (the article's 'steps')"),
        Key("sched-samples", lambda k, v: _int(k, v, 0), "samples the cosine schedule spans (0 = samples)"),
        Key("bs", _upto(65536), "batch size"),
        Key("lr", _float, "AdamW learning rate"),
        Key("wd", _float, "AdamW weight decay"),
        Key("gc", _float, "gradient value clipping (0 = none)"),
        Key("epoch", _int, "samples per training epoch (dedup window, short last batch)"),
        Key("val-every", _int, "validate every N samples (and at the end)"),
        Key("valmode", _choice(["train", "eval"]), "module mode during validation (original: train, "
            "i.e. BN batch stats)"),
        Key("precision", _choice(["fp32", "bf16"]), "fp32 (faithful) or bf16 autocast"),
        Key("compile", _bool, "torch.compile the forward pass and loss (an option; default off)", keyed_unless=False),
        Key("bucket", lambda k, v: _int(k, v, 0),
            "length bucketing: sort each window of N batches by length (0 = off: the original's padding)",
            keyed_unless=0),
        Key("seed", lambda k, v: _int(k, v, 0), "seed of weight init and training stream (the trial)"),
    ]
}
EXEC_KEYS = {
    k.name: k for k in [
        Key("device", _choice(["auto", "cpu", "cuda"]), "auto = CUDA when available", in_run_key=False),
        Key("threads", lambda k, v: _int(k, v, 0), "torch threads (0 = torch default)", in_run_key=False),
        Key("progress", _bool, "show a progress bar on a terminal", in_run_key=False),
    ]
}

TASK_DEFAULTS = {
    "selcopy": {"nitem": 10, "area": 40},
    "program": {"nitem": 26, "len": 5, "nops": 3, "operators": "swap", "format": "tight"},
}
MODEL_DEFAULTS = {
    "conv": {"l": 6, "ch": 64, "ks": 9, "dil": 1, "attn": 0, "qkv": "QK", "attnact": "elu+1",
             "norm": "none", "embedding": "default"},
    "lstm": {"l": 6, "ch": 64},
    "mamba": {"l": 6, "ch": 32, "d_state": 16, "dtinit": "torch", "scan": "fused"},
}
COMMON_DEFAULTS = {
    "task": "program", "model": "conv",
    "val-count": 10_000, "val-seed": 23,
    "samples": 1_000_000, "sched-samples": 0, "bs": 64, "lr": 5e-4, "wd": 0.01, "gc": 0.0,
    "epoch": 100_000, "val-every": 100_000, "valmode": "train", "precision": "fp32",
    "compile": False, "bucket": 0, "seed": 0,
    "device": "auto", "threads": 0, "progress": True,
}

ALL_KEYS = {**TASK_KEYS, **VALIDATION_KEYS, **MODEL_KEYS, **TRAIN_KEYS, **EXEC_KEYS}
VALIDATION_OVERRIDABLE = ("nitem", "area", "len", "nops", "operators")

# Bump a stamp when a code change alters results: it enters the run key of every
# run that uses the component, so exactly those runs are scheduled again.
VERSION_STAMPS = {"task:selcopy": 1, "task:program": 1, "model:conv": 1, "model:lstm": 1,
                  "model:mamba": 1, "train": 2}


def _lookup(key: str) -> Key:
    base = key[4:] if key.startswith("val-") and key[4:] in VALIDATION_OVERRIDABLE else key
    if base not in ALL_KEYS:
        raise SettingsError(key, "", "unknown setting (see `vslm train --help`)")
    k = ALL_KEYS[base]
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
    return ["task", *TASK_DEFAULTS[task]]


def model_keys(model: str) -> list[str]:
    return ["model", *MODEL_DEFAULTS[model]]


def resolve(raw: dict) -> dict:
    """Defaults + validation + normalisation; returns a new dict in a fixed key order."""
    raw = dict(raw)
    for key in raw:
        _lookup(key)
    task = TASK_KEYS["task"].parse("task", raw.get("task", COMMON_DEFAULTS["task"]))
    model = MODEL_KEYS["model"].parse("model", raw.get("model", COMMON_DEFAULTS["model"]))
    allowed = {*task_keys(task), *model_keys(model), *VALIDATION_KEYS, *TRAIN_KEYS, *EXEC_KEYS}
    allowed |= {"val-" + k for k in TASK_DEFAULTS[task] if k in VALIDATION_OVERRIDABLE}
    for key in raw:
        if key not in allowed:
            raise SettingsError(key, raw[key], f"does not apply to task={task} model={model}")
    defaults = {**COMMON_DEFAULTS, **TASK_DEFAULTS[task], **MODEL_DEFAULTS[model]}
    out = {}
    for key in [*task_keys(task), *model_keys(model), *VALIDATION_KEYS, *TRAIN_KEYS, *EXEC_KEYS]:
        out[key] = _lookup(key).parse(key, raw.get(key, defaults[key]))
    for key in sorted(k for k in raw if k.startswith("val-") and k[4:] in VALIDATION_OVERRIDABLE):
        out[key] = _lookup(key).parse(key, raw[key])
    if model == "conv":
        for key in ("dil", "attn"):
            if len(out[key]) == 1:
                out[key] = out[key] * out["l"]
            if len(out[key]) != out["l"]:
                raise SettingsError(key, raw.get(key), f"needs one entry per layer (l={out['l']})")
        for n in out["attn"]:
            if n not in ("T", 0) and out["ch"] % n:
                raise SettingsError("attn", raw.get("attn"), f"{n} heads do not divide ch={out['ch']}")
    if out["sched-samples"] == 0:
        out["sched-samples"] = out["samples"]
    from .tasks import check_task  # task-specific feasibility (no import cycle at module load)
    check_task(out)
    return out


def _in_key(key: str, value: Any) -> bool:
    k = _lookup(key)
    return k.in_run_key and k.keyed_unless != value


def run_spec(settings: dict) -> dict:
    """What defines a run: its result-relevant settings (options at their neutral value left
    out) and execution settings away from their defaults. `resolve(run_spec(s)) == s`."""
    return {k: v for k, v in settings.items()
            if _in_key(k, v) or (not _lookup(k).in_run_key and v != COMMON_DEFAULTS[k])}


def run_key(settings: dict) -> str:
    """Content address of a run: hash of its result-relevant settings and the version stamps."""
    relevant = {k: v for k, v in settings.items() if _in_key(k, v)}
    stamps = {c: VERSION_STAMPS[c] for c in
              (f"task:{settings['task']}", f"model:{settings['model']}", "train")}
    blob = json.dumps({"settings": relevant, "versions": stamps}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def format_value(key: str, value: Any) -> str:
    """Display form used in tables and the CLI: lists comma-joined, a uniform dilation as one value."""
    if isinstance(value, list):
        if key == "dil" and len(set(value)) == 1:
            return str(value[0])
        return ",".join(str(x) for x in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def help_text(keys: dict) -> str:
    return "\n".join(f"  {k.name:<14} {k.help}" for k in keys.values())
