"""The original's own code run here (tests/original/train_original_trainer.py, results/original-runs):
its runs, the cell of ours each one is a run of, and where a reported value sits among all the CPU
runs of its cell."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import models, tasks
from .experiments import cell_label
from .files import FileError, read_json
from .keys import SettingsError
from .paths import ORIGINAL_RUNS_DIR
from .settings import model_keys, resolve, task_keys
from .verdicts import FAITHFUL, LOSS, Judge, identity

MAX_FILE = 1_000_000  # bytes read from one file of an original-trainer run
HEADLINE = ("validation_sample_error%", LOSS)  # a cell is compared on the first the original reports


@dataclass
class OriginalRun:
    """One run of the original's code: its matrix entry (its settings), seed and validation scalars."""
    name: str
    entry: dict
    seed: int
    scalars: dict[str, float]
    commit: str
    cpu: str


def original_runs(root: Path) -> list[OriginalRun]:
    """The finished runs under results/original-runs; an unreadable one is left out (never raises
    on a bad file)."""
    out = []
    for folder in sorted(Path(root, ORIGINAL_RUNS_DIR).glob("*/")):
        try:
            prov = read_json(folder / "provenance.json", MAX_FILE)
            snap = read_json(folder / "snapshot.json", MAX_FILE)
            scalars = {k: float(v["value"]) for k, v in snap["scalars"].items() if k.startswith("validation_")}
            scalars[LOSS] = float(snap["validation_loss"])
            run = OriginalRun(folder.name, dict(prov["matrix_entry"]), int(prov["seed"]), scalars, str(prov["code"]),
                              str(prov.get("cpu", "")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, FileError):
            continue
        if all(math.isfinite(v) for v in scalars.values()):
            out.append(run)
    return out


def _best_fit(registry: dict, entry: dict):
    """The registry module whose ORIGINAL_KEYS name the most of the entry's keys (None on a tie)."""
    named = sorted(((sum(k in entry for k in getattr(m, "ORIGINAL_KEYS", {})), name) for name, m in registry.items()),
                   reverse=True)
    if not named or named[0][0] == 0 or (len(named) > 1 and named[1][0] == named[0][0]):
        return None
    return named[0][1]


def entry_settings(entry: dict) -> dict | None:
    """Our task and model settings for an original matrix entry: the task and model that name most of
    its keys (each module's ORIGINAL_KEYS), the keys it does not name at their defaults; None where
    no task or model fits or a value is not one of ours."""
    task, model = _best_fit(tasks.TASKS, entry), _best_fit(models.MODELS, entry)
    if task is None or model is None:
        return None
    raw = {"task": task, "model": model}
    for module in (tasks.TASKS[task], models.MODELS[model]):
        raw |= {ours: entry[theirs] for theirs, ours in module.ORIGINAL_KEYS.items() if theirs in entry}
    try:
        settings = json.loads(json.dumps(resolve(raw, data=False)))  # lists as a run's metrics.json has them
    except (SettingsError, TypeError, ValueError):
        return None
    keys = [*task_keys(task), *model_keys(model), *(k for k in raw if k.startswith("val-"))]
    return {k: settings[k] for k in keys}


def trainer_comparison(runs: list[OriginalRun], judge: Judge, rows_by_exp: dict) -> list[dict]:
    """Per cell the original's code ran here: its runs, ours (same cell, every trial) and the reported
    value, on the first metric of HEADLINE that the original reports for the cell."""
    cells: dict[str, dict] = {}
    for run in runs:
        want = entry_settings(run.entry)
        found = want and next(((name, r) for name, rows in rows_by_exp.items() for r in rows
                               if r.settings["precision"] == FAITHFUL
                               and r.settings["samples"] == r.cell.original_samples
                               and all(r.settings.get(k) == v for k, v in want.items())), None)
        if not found:
            continue
        name, row = found
        ident = identity(row.settings)
        cell = cells.setdefault(ident, {"label": f"{name} {cell_label(row.cell)}", "runs": [], "row": row})
        cell["runs"].append(run)
    out = []
    for ident, cell in cells.items():
        metric = next((m for m in HEADLINE if judge.original.get((ident, m))), LOSS)
        ours, orig = judge.ours.get((ident, metric)), judge.original.get((ident, metric))
        theirs = sorted((r for r in cell["runs"] if metric in r.scalars), key=lambda r: r.seed)
        row = cell["row"]
        seed_of = {run.key: run.settings["seed"] for run in row.cell.runs}
        by_seed = {seed_of[k]: v for k, v in zip(row.done_keys, row.metric(metric))}
        out.append({"label": cell["label"], "settings": row.settings, "metric": metric,
                    "here": [r.scalars[metric] for r in theirs], "seeds": [r.seed for r in theirs],
                    "paired": [by_seed[r.seed] / r.scalars[metric] for r in theirs
                               if r.seed in by_seed and r.scalars[metric] > 0],
                    "ours": ours.raw if ours else [], "reported": orig.raw if orig else [],
                    "commits": {r.commit.split("@")[-1][:7] for r in theirs}, "cpus": {r.cpu for r in theirs}})
    return out


def geo(values) -> float:
    return math.exp(float(np.mean(np.log(values)))) if len(values) else math.nan


@dataclass
class Rank:
    """Where a reported value sits among n runs: k of them at or below it; if it were one more draw
    of the same runs its rank would be uniform on 1..n+1, so P(a rank this low) = (k + 1) / (n + 1)."""
    k: int
    n: int

    @property
    def p(self) -> float:
        return (self.k + 1) / (self.n + 1)


def lucky_rank(cell: dict) -> Rank | None:
    """The reported one-run value's rank among all CPU runs of its cell (ours and the original's code)."""
    runs = list(cell["ours"]) + list(cell["here"])
    if len(cell["reported"]) != 1 or not runs:
        return None
    return Rank(sum(v <= cell["reported"][0] for v in runs), len(runs))


def nearer(cell: dict) -> tuple[float, float, str] | None:
    """The original's code here over ours and over the reported value (geometric means), and which
    of the two it is nearer on the log scale; None where a side is missing or a value is 0."""
    values = (cell["here"], cell["ours"], cell["reported"])
    if not all(values) or min(min(v) for v in values) <= 0:
        return None
    here = geo(cell["here"])
    to_ours, to_reported = here / geo(cell["ours"]), here / geo(cell["reported"])
    return to_ours, to_reported, "ours" if abs(math.log(to_ours)) < abs(math.log(to_reported)) else "the reported value"
