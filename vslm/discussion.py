"""The article's judgement, generated from the verdicts: the noise model, the equal-budget shift of
our losses against the original's, the original's own trainer run here beside ours, and what the
claims' verdicts rest on."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy import stats

from .claims import Claim, matches
from .experiments import cell_label
from .files import FileError, read_json
from .paths import ORIGINAL_RUNS_DIR
from .plan_rule import Plan, trials_by_seed
from .rundir import load_result
from .verdicts import LOSS, ROW_VERDICTS, Judge, distinct_cells, identity

MAX_FILE = 1_000_000  # bytes read from one file of an original-trainer run


@dataclass
class Shift:
    """Ours against the original at the original budget, one value per distinct cell (validation
    loss, log scale), with seed 1 (every one-trial cell's seed) apart from the later seeds."""
    cells: int
    worse: int
    geomean: float  # exp(mean log(ours / original))
    p: float  # Wilcoxon signed-rank, two-sided
    by_table: dict  # table -> (worse, cells)
    paired: int = 0  # cells with seed 1 and a later seed
    seed1: float = math.nan  # over those cells: seed 1's loss over the original's (geometric mean)
    later: float = math.nan  # the mean log loss of seeds >= 2 over the original's (geometric mean)


GROUPS = ("one-run", "several-run")  # the original's cell is one run, or a mean of several trials


def shift(judge: Judge, rows_by_exp: dict) -> dict[str, Shift]:
    """The validation loss of every distinct cell trained at the original budget, ours over the
    original's (mean log losses), in two groups: cells whose original is one run and those whose
    original is a mean of several."""
    found: dict[str, list] = {g: [] for g in GROUPS}
    for name, r in distinct_cells(rows_by_exp):
        c = judge.compare(r.settings, LOSS)
        if r.settings["samples"] < r.cell.original_samples or c is None:
            continue
        seeds = {s: math.log(v) for s, v in trials_by_seed([r], LOSS).items() if v > 0}
        split = (seeds[1] - c.original.mean, float(np.mean([v for s, v in seeds.items() if s > 1])) - c.original.mean) \
            if 1 in seeds and len(seeds) > 1 else None
        found[GROUPS[c.original.n > 1]].append((name, c.d, split))
    out = {}
    for group, cells in found.items():
        if len(cells) < 6:
            continue
        d = [x for _, x, _ in cells]
        by_table: dict[str, tuple] = {}
        for name, x, _ in cells:
            w, n = by_table.get(name, (0, 0))
            by_table[name] = (w + (x > 0), n + 1)
        split = [s for _, _, s in cells if s]
        out[group] = Shift(len(d), sum(x > 0 for x in d), math.exp(float(np.mean(d))),
                           float(stats.wilcoxon(d).pvalue), by_table, len(split),
                           *(math.exp(float(np.mean([s[i] for s in split]))) if split else math.nan for i in (0, 1)))
    return out


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
            prov = read_json(folder / "provenance.json", MAX_FILE)
            snap = read_json(folder / "snapshot.json", MAX_FILE)
            loss = float(snap["validation_loss"])
            mask = float(snap["scalars"]["validation_mask_error%"]["value"])
        except (OSError, ValueError, KeyError, TypeError, FileError):
            continue
        if math.isfinite(loss):
            out.append(OriginalRun(folder.name, prov["matrix_entry"], int(prov["seed"]), loss, mask,
                                   prov["code"], prov.get("cpu", "")))
    return out


def _entry_settings(entry: dict) -> dict:
    """The vslm settings an original S1 matrix entry names."""
    dil = entry.get("dil", 1)
    return {"l": int(entry["l"]), "ch": int(entry["ch"]), "ks": int(entry["ks"]), "nitem": int(entry["nitem"]),
            "area": int(entry["area"]),
            "dil": [int(x) for x in (dil if isinstance(dil, list) else [dil] * int(entry["l"]))]}


def cell_verdicts(judge: Judge, rows_by_exp: dict) -> dict[str, Counter]:
    """The distinct cells at the original budget with an original value, counted by verdict (on
    sample error where the original reports it, else loss), by whether the original is one run."""
    counts = {g: Counter() for g in GROUPS}
    for _, r in distinct_cells(rows_by_exp):
        found = [c for m in (LOSS, "validation_sample_error%") if (c := judge.compare(r.settings, m))]
        if r.settings["samples"] >= r.cell.original_samples and found:
            counts[GROUPS[found[-1].original.n > 1]][found[-1].verdict] += 1
    return counts


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
        out.append({"label": cell["label"], "settings": row.settings,
                    "here": [r.loss for r in theirs], "seeds": [r.seed for r in theirs],
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
    out = ["| task | metric | regime | sd (transformed scale) | degrees of freedom |", "|---|---|---|---|---|"]
    for (task, metric, regime), (sd, df) in sorted(judge.pools.items(), key=lambda kv: tuple(map(str, kv[0]))):
        out.append(f"| {task} | {metric} | {regime or 'all'} | {sd:.3g} | {df} |")
    return out


def lucky_lines(plan: Plan, here: list[dict]) -> list[str]:
    """The plan's lucky-run test on its cell, once its runs are in, and the rank of every reported
    one-run value among the CPU runs of its cell."""
    test = plan.tests.get("lucky run")
    out = ["#### Where each reported one-run value sits among the CPU runs of its cell", "",
           "| cell | CPU runs (ours + the original's code) | at or below the reported | its rank | "
           "P(a rank this low) |", "|---|---|---|---|---|"]
    for c in here:
        if r := lucky_rank(c):
            out.append(f"| {c['label']} | {len(c['ours'])} + {len(c['here'])} | {r.k} | {r.k + 1} of {r.n + 1} | "
                       f"{r.p:.3g} |")
    out.append("")
    if test:
        want = test["runs"]
        where = {k: v for k, v in test["cell"].items() if k != "table"}
        cell = next((c for c in here if all(matches(c["settings"], k, v) for k, v in where.items())), None)
        have = (len(cell["ours"]), len(cell["here"])) if cell else (0, 0)
        r = lucky_rank(cell) if cell else None
        if have[0] >= want["ours"] and have[1] >= want["original_trainer"] and r:
            verdict = "lucky (an unlikely low draw)" if r.p < test["alpha"] else "a plausible draw"
            out.append(f"The lucky-run test of `workflow/plan.yaml` ({cell['label']}): "
                       f"P = {r.p:.3g} against α {test['alpha']}: {verdict}.")
        else:
            out.append(f"The lucky-run test of `workflow/plan.yaml` waits for its runs: {have[0]} of {want['ours']} "
                       f"of ours and {have[1]} of {want['original_trainer']} of the original's code are in; the "
                       "rank above is provisional.")
        out.append("")
    return out


def pending_tests(plan: Plan, rows_by_exp: dict, runs: list[OriginalRun]) -> list[str]:
    """The plan's TF32 and S2-T8 trainer tests: the runs each has of those it needs."""
    out = []
    tf32 = plan.tests.get("tf32")
    if tf32:
        have = sum(r.trials for rows in rows_by_exp.values() for r in rows if r.settings.get("precision") == "tf32")
        out.append(f"- TF32 arm ({tf32['question']}): {have} of its {tf32['runs']['tf32']} tf32 runs are in"
                   + ("; not tested yet." if have < tf32["runs"]["tf32"] else "."))
    s2 = plan.tests.get("S2-T8 trainer")
    if s2:
        have = sum("attn" in r.entry for r in runs)
        out.append(f"- The original's trainer on S2-T8 `{s2['cell']['attn']}`: {have} of its "
                   f"{s2['runs']['original_trainer']} runs are in.")
    return ["#### The plan's other tests", "", *out, ""] if out else []


def shift_lines(shifts: dict[str, Shift]) -> list[str]:
    out = ["### The equal-budget shift", "",
           "Our validation loss over the original's, per distinct cell at the original budget (mean of the log "
           "losses of each side), apart for the cells whose original is one run and those whose original is a "
           "mean of several trials. Seed 1 is the seed of every one-trial cell; where a cell has later seeds "
           "too, seed 1 alone and the later seeds are compared with the original apart.", "",
           "| original | cells | ours higher | geometric mean | Wilcoxon p | seed 1 alone | seeds ≥ 2 | by table |",
           "|---|---|---|---|---|---|---|---|"]
    for group, s in shifts.items():
        tables = ", ".join(f"{name} {w} of {n}" for name, (w, n) in s.by_table.items())
        seeds = (f"×{s.seed1:.3g}", f"×{s.later:.3g} ({s.paired} cells)") if s.paired else ("–", "–")
        out.append(f"| {group} | {s.cells} | {s.worse} | ×{s.geomean:.3g} | {s.p:.2g} | {seeds[0]} | {seeds[1]} | "
                   f"{tables} |")
    return out + [""]


def discussion(claims: list[Claim], judge: Judge, rows_by_exp: dict, plan: Plan, root: Path) -> list[str]:
    """The 'How sure we can be' section: rules, noise, verdict counts, the stopping rule, the shift,
    the original's trainer here, the plan's tests, and the claims' undecided and failed conditions."""
    rules = judge.rules
    out = ["## How sure we can be", "",
           "Every verdict is computed by the rules of `workflow/verdicts.yaml`: error rates on the logit scale, "
           f"losses on the log scale, {rules.level:.0%} intervals. The noise is our own: a cell with at least "
           f"{rules.own_sd} trials uses its own standard deviation, any other the pooled one of our cells of its "
           "task, metric and regime (below). Against an original of one run a row is *consistent* when the "
           "original's value lies inside our prediction interval for one new trial and *inconsistent* when "
           "outside; against an original mean of several trials it is *reproduced* when the interval of the "
           f"difference lies inside ×{math.exp(-rules.margin):.2g}-×{math.exp(rules.margin):.2g} (odds or loss), "
           "*not reproduced* when wholly outside, *undecided* otherwise. Each row states the smallest factor its "
           f"trial counts could detect. A cell with a trial beyond {rules.bimodal_sds:g} pooled sds of its mean "
           f"is read by the count of trials below {rules.solved:g} % error (Wilson interval). "
           f"{_sentence(rules.text['seeds'])}", "", *noise_lines(judge), ""]
    counts = cell_verdicts(judge, rows_by_exp)
    out += ["Distinct cells at the original budget with an original value (sample error where the original "
            "reports it, else loss):", "", "| original | " + " | ".join(ROW_VERDICTS) + " |",
            "|---|" + "---|" * len(ROW_VERDICTS)]
    out += [f"| {g} | " + " | ".join(str(counts[g][v]) for v in ROW_VERDICTS) + " |" for g in counts] + [""]
    out += plan_lines(claims, plan, root)
    out += shift_lines(shift(judge, rows_by_exp))
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
        out += ["", _trainer_reading(here), ""] + lucky_lines(plan, here)
    out += pending_tests(plan, rows_by_exp, original_runs(root))
    out += ["### What the claims rest on", ""]
    for c in claims:
        if not c.conditions:
            out.append(f"- Claim {c.number}: {c.verdict}.")
            continue
        open_ = [f"{x.text} ({x.state})" for x in c.conditions if x.state != "holds"]
        out.append(f"- Claim {c.number} ({c.verdict}): " +
                   ("every condition holds on its interval" if not open_ else "; ".join(open_)) + "; reproduced: "
                   + c.reproduced + ".")
    return out + [""]


def finished_after(key: str, when: str | None, root: Path) -> bool:
    """Whether run `key` finished after the ISO time `when` (False where either is unknown)."""
    finished = ((load_result(key, root) or {}).get("provenance") or {}).get("finished")
    try:
        return bool(when and finished) and datetime.fromisoformat(finished) > datetime.fromisoformat(when)
    except (TypeError, ValueError):
        return False


def plan_lines(claims: list[Claim], plan: Plan, root: Path) -> list[str]:
    """The stopping rule: when it was committed, the runs its looks read, and each condition's state."""
    planned = [c for c in claims if c.number in plan.conditions]
    if not planned:
        return []
    out = ["### The stopping rule", "",
           f"`workflow/plan.yaml` (first committed {plan.committed or 'outside git: unknown'}) fixes, per claim "
           f"condition that compares cells, the cells, the looks and a one-sided α {plan.alpha:g} per look "
           f"(Pocock's constant level for two looks, about 5 % overall); each look reads the compared cells' own "
           f"trials at {plan.level:.0%} intervals. " + (f"{len(plan.history)} change(s) since: "
                                                      + "; ".join(map(str, plan.history)) if plan.history else
                                                      "It has not changed since."), ""]
    for c in planned:
        cond = plan.conditions[c.number]
        keys = [k for x in c.conditions for k in x.runs]
        after = sum(finished_after(k, plan.committed, root) for k in keys)
        looks = ", ".join(map(str, cond["looks"]))
        out.append(f"- Claim {c.number} ({c.verdict}; {cond['table']}, looks at n {looks}; "
                   f"{after} of its cells' {len(keys)} finished runs finished after the plan's commit): "
                   + "; ".join(x.text for x in c.conditions) +
                   (f"; under the old rule: {c.old_verdict}" if c.old_verdict else "") + ".")
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
