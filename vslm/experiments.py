"""config -> experiments -> cells -> runs.

An experiment (one table of the article) has base settings, a grid and/or an
explicit list of cells, and a number of trials. A grid is a cartesian product in
key order; a grid value that is a mapping (e.g. ``{l: 12, dil: ...}``) sets
several keys together, which pairs values such as dilation lists with layer
counts; ``exclude`` drops cells matching any of its partial settings. The scale
(smoke, cpu, claims, paper) overrides settings, trials and filters; its ``more_trials`` gives
the cells matching a partial setting more trials. Each (cell, trial)
resolves to full settings whose hash is the run key (the run directory name),
so a cell shared by several tables trains once.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .files import atomic_write, read_json, read_text
from .keys import ConfigError
from .settings import COMMON_DEFAULTS, SettingsError, format_value, parse_value, resolve, run_key, run_spec


class Run(NamedTuple):
    trial: int
    settings: dict  # fully resolved
    key: str  # run directory name


@dataclass
class Cell:
    values: dict  # the grid/cell values that distinguish this cell (display)
    original_samples: int  # the original's budget for this cell (the experiment's own settings)
    runs: list[Run] = field(default_factory=list)


@dataclass
class Experiment:
    name: str
    spec: dict
    cells: list

    @property
    def keys(self) -> list[str]:
        return [run.key for cell in self.cells for run in cell.runs]

    @property
    def original_trials(self) -> int:
        return self.spec.get("trials", 1)


def _expand_grid(grid: dict) -> list[dict]:
    axes = []
    for key, values in grid.items():
        values = values if isinstance(values, list) else [values]
        values = [v for item in values for v in (item if isinstance(item, list) else [item])]
        axes.append([v if isinstance(v, dict) else {key: v} for v in values])
    return [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*axes)]


def _matches(cell: dict, partial: dict) -> bool:
    return all(str(cell.get(k)) == str(v) for k, v in partial.items())


def scale_spec(config: dict, exp: dict, scale: str) -> dict:
    """Scale overrides: those of the scale's `base` scale first (if any), then the config's
    global ones, then the experiment's own. A global `trials` caps the experiment's trials, an
    experiment's own sets them; `original` names cells trained at the experiment's own settings
    (the original's budget), without the scale's settings."""
    glob = config.get("scales", {}).get(scale) or {}
    merged = scale_spec(config, exp, glob["base"]) if glob.get("base") else {"settings": {}}
    own = (exp.get("scales") or {}).get(scale) or {}
    merged["settings"] = {**merged["settings"], **(glob.get("settings") or {}), **(own.get("settings") or {})}
    if "trials" in glob:  # a global trial count caps the experiments' own
        merged["max_trials"] = glob["trials"]
    if "exclude" in glob:
        merged["exclude"] = glob["exclude"]
    for k in ("trials", "exclude", "original", "more_trials"):
        if k in own:
            merged[k] = own[k]
    return merged


def _original(values: dict, sc: dict) -> bool:
    """Whether a cell trains at the original's budget under this scale (`original`: true or partials)."""
    spec = sc.get("original", False)
    return spec is True or (isinstance(spec, list) and any(_matches(values, p) for p in spec))


def _resolve(name: str, raw: dict) -> dict:
    try:
        settings = resolve(raw)
    except SettingsError as e:
        raise ConfigError(f"experiment {name}", str(e)) from None
    settings.pop("progress")
    return settings


def build_experiment(name: str, exp: dict, config: dict, scale: str) -> Experiment:
    sc = scale_spec(config, exp, scale)
    trials = sc.get("trials", min(exp.get("trials", 1), sc.get("max_trials", exp.get("trials", 1))))
    grid_cells = _expand_grid(exp["grid"]) if exp.get("grid") else []
    values_list = grid_cells + [dict(c) for c in exp.get("cells", [])]
    exclude = list(exp.get("exclude", [])) + list(sc.get("exclude", []))
    cells = []
    for values in values_list:
        if any(_matches(values, p) for p in exclude):
            continue
        raw = {**exp.get("base", {}), **values}
        try:  # the original's budget: the experiment's own samples
            cell = Cell(values, parse_value("samples", raw.get("samples", COMMON_DEFAULTS["samples"])))
        except SettingsError as e:
            raise ConfigError(f"experiment {name}", str(e)) from None
        overrides = {} if _original(values, sc) else sc["settings"]
        more = [m["trials"] for m in sc.get("more_trials", [])
                if _matches(values, {k: v for k, v in m.items() if k != "trials"})]
        for trial in range(1, max([trials, *more]) + 1):
            settings = _resolve(name, {**exp.get("base", {}), **values, **overrides, "seed": trial})
            cell.runs.append(Run(trial, settings, run_key(settings)))
        cells.append(cell)
    if not cells:
        raise ConfigError(f"experiment {name}", "has no cells (grid/cells empty or all excluded)")
    return Experiment(name, exp, cells)


def load_config(config: dict, scale: str | None = None) -> dict:
    """-> {name: Experiment} of an already-read config (files: `vslm.config.load`, which checks them)."""
    scale = scale or config.get("scale", "cpu")
    if scale not in (config.get("scales") or {}):
        raise ConfigError("scale", f"{scale!r} is not one of {sorted(config.get('scales') or {})}")
    return {name: build_experiment(name, exp, config, scale) for name, exp in config["experiments"].items()}


def all_runs(experiments: dict) -> dict:
    """run key -> settings, over all experiments (shared cells appear once). One run asked for
    with different execution settings (e.g. device) is a `ConfigError`."""
    runs, where = {}, {}
    for e in experiments.values():
        for run in (run for c in e.cells for run in c.runs):
            if run.key in runs and run_spec(runs[run.key]) != run_spec(run.settings):
                raise ConfigError(f"experiments {where[run.key]} and {e.name}",
                                  f"run {run.key} is asked for with different execution settings")
            runs.setdefault(run.key, run.settings)
            where.setdefault(run.key, e.name)
    return runs


def experiment_record(exp: Experiment, scale: str) -> dict:
    """Everything a table or plot of `exp` is built from, as JSON (the DAG's spec file)."""
    return {"name": exp.name, "scale": scale, "spec": exp.spec,
            "cells": [{"values": c.values, "original_samples": c.original_samples,
                       "runs": [r._asdict() for r in c.runs]} for c in exp.cells]}


def experiment_from_record(record: dict) -> Experiment:
    cells = [Cell(c["values"], c["original_samples"], [Run(**r) for r in c["runs"]]) for c in record["cells"]]
    return Experiment(record["name"], record["spec"], cells)


def read_records(paths) -> dict[str, Experiment]:
    """Experiments from their spec files (results/specs/<name>.json), by name, in the given order."""
    experiments = (experiment_from_record(read_json(p)) for p in paths)
    return {e.name: e for e in experiments}


def write_if_changed(path: Path, text: str) -> None:
    """Write only when the content differs, so the file's mtime marks a real change."""
    path = Path(path)
    if not path.exists() or read_text(path) != text:
        atomic_write(path, text)


def cell_label(cell: Cell) -> str:
    return " ".join(f"{k}={format_value(k, v)}" for k, v in cell.values.items())


