"""The article's judgement, generated from the verdicts: the noise model, the equal-budget shift of
our losses against the original's, the original's own trainer run here beside ours, and what the
claims' verdicts rest on."""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from .claims import Claim
from .experiments import cell_label
from .paths import ORIGINAL_RUNS_DIR
from .tables import Table, rows_by_name, shared_judge
from .verdicts import LOSS, NOT_REPRODUCED, REPRODUCED, UNDECIDED, Judge, distinct_cells, identity

MAX_FILE = 1_000_000  # bytes read from one file of an original-trainer run


@dataclass
class Shift:
    """Ours against the original at the original budget, one value per distinct cell."""
    cells: int
    worse: int
    geomean: float  # exp(mean log(ours / original))
    p: float  # Wilcoxon signed-rank, two-sided
    by_table: dict  # table -> (worse, cells)


def shift(judge: Judge, rows_by_exp: dict) -> Shift | None:
    """The validation loss of every distinct cell trained at the original budget, ours over the
    original's (on the mean of the log losses of each side)."""
    d, by_table = [], {}
    for name, r in distinct_cells(rows_by_exp):
        c = judge.compare(r.settings, LOSS)
        if r.settings["samples"] < r.cell.original_samples or c is None:
            continue
        d.append(c.d)
        w, n = by_table.get(name, (0, 0))
        by_table[name] = (w + (c.d > 0), n + 1)
    if len(d) < 6:
        return None
    return Shift(len(d), sum(x > 0 for x in d), math.exp(float(np.mean(d))), float(stats.wilcoxon(d).pvalue),
                 by_table)


@dataclass
class OriginalRun:
    """One run of the original's own code on this machine (tests/original/train_original_trainer.py)."""
    name: str
    entry: dict  # the original's matrix entry (its settings)
    seed: int
    loss: float
    mask_error: float
    commit: str
    cpu: str


def original_runs(root: Path) -> list[OriginalRun]:
    """The finished original-trainer runs under results/original-runs; an unreadable one is skipped
    with its name in the returned list's place (never raises on a bad file)."""
    out = []
    for folder in sorted(Path(root, ORIGINAL_RUNS_DIR).glob("*/")):
        try:
            prov = json.loads(_read(folder / "provenance.json"))
            snap = json.loads(_read(folder / "snapshot.json"))
            loss = float(snap["validation_loss"])
            mask = float(snap["scalars"]["validation_mask_error%"]["value"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if math.isfinite(loss):
            out.append(OriginalRun(folder.name, prov["matrix_entry"], int(prov["seed"]), loss, mask,
                                   prov["code"], prov.get("cpu", "")))
    return out


def _read(path: Path) -> str:
    with open(path, encoding="utf-8") as f:
        text = f.read(MAX_FILE + 1)
    if len(text) > MAX_FILE:
        raise ValueError(f"{path} is over {MAX_FILE} bytes")
    return text


def _entry_settings(entry: dict) -> dict:
    """The vslm settings an original S1 matrix entry names."""
    dil = entry.get("dil", 1)
    return {"l": int(entry["l"]), "ch": int(entry["ch"]), "ks": int(entry["ks"]), "nitem": int(entry["nitem"]),
            "area": int(entry["area"]),
            "dil": [int(x) for x in (dil if isinstance(dil, list) else [dil] * int(entry["l"]))]}


def cell_verdicts(judge: Judge, rows_by_exp: dict) -> Counter:
    """The distinct cells at the original budget with an original value, counted by verdict (on
    sample error where the original reports it, else loss), and under SINGLE those with one trial
    on each side."""
    counts = Counter()
    for _, r in distinct_cells(rows_by_exp):
        found = [c for m in (LOSS, "validation_sample_error%") if (c := judge.compare(r.settings, m))]
        if r.settings["samples"] >= r.cell.original_samples and found:
            counts[found[-1].verdict] += 1
            counts[SINGLE] += found[-1].ours.n == 1 and found[-1].original.n == 1
    return counts


SINGLE = "one trial each side"


def judged(counts: Counter) -> int:
    return sum(counts[v] for v in (REPRODUCED, NOT_REPRODUCED, UNDECIDED))


def trainer_comparison(runs: list[OriginalRun], judge: Judge, rows_by_exp: dict) -> list[dict]:
    """Per cell the original's code ran here: its runs, ours (same cell, every trial) and the reported value."""
    cells: dict[str, dict] = {}
    for run in runs:
        want = _entry_settings(run.entry)
        found = next(((name, r) for name, rows in rows_by_exp.items() for r in rows
                      if r.settings["task"] == "selcopy" and not any(r.settings.get("attn") or [])
                      and r.settings["samples"] == r.cell.original_samples
                      and all(r.settings.get(k) == v for k, v in want.items())), None)
        if found is None:
            continue
        name, row = found
        ident = identity(row.settings)
        cell = cells.setdefault(ident, {"label": f"{name} {cell_label(row.cell)}", "runs": [], "row": row})
        cell["runs"].append(run)
    out = []
    for ident, cell in cells.items():
        ours = judge.ours.get((ident, LOSS))
        orig = judge.original.get((ident, LOSS))
        theirs = sorted(cell["runs"], key=lambda r: r.seed)
        row = cell["row"]
        seed_of = {run.key: run.settings["seed"] for run in row.cell.runs}
        by_seed = {seed_of[k]: v for k, v in zip(row.done_keys, row.metric(LOSS))}
        out.append({"label": cell["label"], "here": [r.loss for r in theirs], "seeds": [r.seed for r in theirs],
                    "paired": [by_seed[r.seed] / r.loss for r in theirs if r.seed in by_seed and r.loss > 0],
                    "ours": ours.raw if ours else [], "reported": orig.raw if orig else [],
                    "commit": theirs[0].commit.split("@")[-1][:7], "cpus": {r.cpu for r in theirs}})
    return out


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _sentence(text: str) -> str:
    """`text` as a sentence of its own: capitalised, one full stop."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def geo(values) -> float:
    return math.exp(float(np.mean(np.log(values)))) if len(values) else math.nan


def noise_lines(judge: Judge) -> list[str]:
    out = ["| metric | regime | sd (transformed scale) | degrees of freedom |", "|---|---|---|---|"]
    for (metric, regime), (sd, df) in sorted(judge.pools.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        out.append(f"| {metric} | {regime or 'all'} | {sd:.3g} | {df} |")
    return out


def discussion(claims: list[Claim], tables: dict[str, Table], root: Path) -> list[str]:
    """The 'How sure we can be' section: rules, noise, verdict counts, the shift, the original's
    trainer here, and the claims' undecided and failed conditions."""
    judge, rows_by_exp = shared_judge(tables), rows_by_name(tables)
    rules = judge.rules
    out = ["## How sure we can be", "",
           f"Every verdict is computed by the rules of `workflow/verdicts.yaml` (fixed 2026-12-01, before the "
           f"trials that issue #28 added finished): error rates on the logit scale, losses on the log scale; "
           f"a {rules.level:.0%} interval; a row reproduces the original when the interval of ours over the "
           f"original's lies inside ×{math.exp(-rules.margin):.2g}-×{math.exp(rules.margin):.2g} (odds or loss), "
           "does not when it lies wholly outside, and is undecided otherwise. A cell is judged once, from all "
           "our trials of it in every table and the original's separate runs of it. "
           f"{_sentence(rules.text['seeds'])}", "",
           "The trial-to-trial spread, pooled over alike cells (ours and the original's):", "", *noise_lines(judge),
           ""]
    if rules.history:
        out += ["Changes to these rules after results were seen:", ""] + [f"- {h}" for h in rules.history] + [""]
    counts = cell_verdicts(judge, rows_by_exp)
    out += [f"Of the {judged(counts)} distinct cells at the original budget with an original value, judged on "
            f"sample error where the original reports it, else loss: {counts[REPRODUCED]} reproduced, "
            f"{counts[NOT_REPRODUCED]} not reproduced, {counts[UNDECIDED]} undecided. {counts[SINGLE]} of them have "
            "one trial on each side, and one trial against one cannot separate a factor 2 from the noise.", ""]
    s = shift(judge, rows_by_exp)
    if s:
        tables = ", ".join(f"{name} {w} of {n}" for name, (w, n) in s.by_table.items())
        out += ["### The equal-budget shift", "",
                f"At the original budget, {s.worse} of {s.cells} distinct cells end at a higher validation loss than "
                f"the original's (geometric mean of ours over the original's ×{s.geomean:.3g}; Wilcoxon signed-rank "
                f"p = {s.p:.2g}; by table: {tables}). Every cell with one trial is seed 1, so these cells share "
                "their training stream and the test overstates the evidence.", ""]
    here = trainer_comparison(original_runs(root), judge, rows_by_exp)
    if here:
        cpus = ", ".join(sorted(set().union(*(c["cpus"] for c in here))))
        out += ["### The original's own trainer, run here", "",
                "The original's code end to end (its yml, runner, data class, model and trainer at "
                f"{', '.join(sorted({c['commit'] for c in here}))}; `tests/original/train_original_trainer.py`), "
                f"seeded as listed, one thread on {cpus}, beside our runs of the same cell (every trial; our "
                "trial k is seed k) and the original's reported value (validation loss). Both codes are given the "
                "same seed number; where their runs of one seed stay closer to each other than the seeds differ "
                "among themselves, the same-seed ratio is a paired comparison, and where they drift apart over the "
                "million samples, the two runs are as good as independent:", "",
                "| cell | original's code here (seeds) | geometric mean | ours (vslm) | geometric mean | reported | "
                "ours ÷ original's code, same seed |", "|---|---|---|---|---|---|---|"]
        for c in here:
            values = lambda vs: ", ".join(f"{v:.3g}" for v in vs)  # noqa: E731
            paired = ", ".join(f"×{v:.3g}" for v in c["paired"])
            out.append(f"| {c['label']} | {values(c['here'])} ({', '.join(map(str, c['seeds']))}) | "
                       f"{geo(c['here']):.3g} | {values(c['ours'])} | {geo(c['ours']):.3g} | {values(c['reported'])} | "
                       f"{paired} |")
        out += ["", _trainer_reading(here), ""]
    out += ["### What the claims rest on", ""]
    for c in claims:
        if not c.conditions:
            out.append(f"- Claim {c.number}: {c.verdict}.")
            continue
        open_ = [f"{x.text} ({x.state})" for x in c.conditions if x.state != "holds"]
        out.append(f"- Claim {c.number} ({c.verdict}; trials ours/original per number: {c.trials}): " +
                   ("every condition holds on its interval" if not open_ else "; ".join(open_)) + "; reproduced: "
                   + c.reproduced + ".")
    return out + [""]


def _trainer_reading(cells: list[dict]) -> str:
    """Whether the original's code here lands nearer our numbers or the reported ones (log scale)."""
    parts = []
    for c in cells:
        if (found := nearer(c)) is None:
            continue
        to_ours, to_reported, which = found
        paired = c["paired"]
        same_seed = (f"; same seed, ours is ×{geo(paired):.3g} of it (geometric mean over "
                     f"{_count(len(paired), 'seed')}, from ×{min(paired):.3g} to ×{max(paired):.3g})" if paired else "")
        parts.append(f"{c['label']}: the original's code here is nearer {which} (×{to_ours:.3g} of "
                     f"ours, ×{to_reported:.3g} of the reported){same_seed}")
    return ("; ".join(parts) + ".") if parts else ""


def nearer(cell: dict) -> tuple[float, float, str] | None:
    """The original's code here over ours and over the reported value (geometric means), and which
    of the two it is nearer on the log scale; None where a side is missing."""
    if not (cell["here"] and cell["ours"] and cell["reported"]):
        return None
    here = geo(cell["here"])
    to_ours, to_reported = here / geo(cell["ours"]), here / geo(cell["reported"])
    return to_ours, to_reported, "ours" if abs(math.log(to_ours)) < abs(math.log(to_reported)) else "the reported value"
