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
from .verdicts import FAITHFUL, LOSS, ROW_VERDICTS, Judge, distinct_cells, identity
from .wording import Wording

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
                      and r.settings["precision"] == FAITHFUL
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


def arms(rows_by_exp: dict, table: str, where: dict, metric: str) -> dict[str, dict[str, float]]:
    """precision -> run key -> `metric`, over every table's rows of the cell of `table` that
    matches `where`, at any precision (a cell shown in two tables counts once: by run key)."""
    base = next((r for r in rows_by_exp.get(table, []) if r.settings["precision"] == FAITHFUL
                 and all(k in r.settings and matches(r.settings, k, v) for k, v in where.items())), None)
    out: dict[str, dict[str, float]] = {}
    for rows in rows_by_exp.values():
        for r in rows:
            if base and identity(dict(r.settings, precision=FAITHFUL)) == identity(base.settings):
                out.setdefault(r.settings["precision"], {}).update(zip(r.done_keys, r.metric(metric)))
    return out


@dataclass
class ArmTest:
    """The TF32 arm against the fp32 one: both arms' values, the ratio of their geometric means and
    the two-sided Mann-Whitney U p (None below two runs an arm)."""
    tf32: list[float]
    fp32: list[float]

    @property
    def ratio(self) -> float:
        return geo(self.tf32) / geo(self.fp32)

    @property
    def p(self) -> float | None:
        if min(len(self.tf32), len(self.fp32)) < 2:
            return None
        return float(stats.mannwhitneyu(self.tf32, self.fp32, alternative="two-sided").pvalue)


def tf32_test(plan: Plan, rows_by_exp: dict) -> ArmTest | None:
    """The plan's TF32 test on the runs that exist (each arm's seeds 1 to the plan's number)."""
    test = plan.tests.get("tf32")
    if not test:
        return None
    where = {k: v for k, v in test["cell"].items() if k != "table"}
    found = {p: sorted(v.values()) for p, v in arms(rows_by_exp, test["cell"]["table"], where, test["metric"]).items()}
    return ArmTest(found.get("tf32", []), found.get("fp32", [])) if found.get("tf32") else None


def tf32_sentence(plan: Plan, found: ArmTest | None) -> str:
    """What the TF32 arm shows so far, or that it has no runs; decided once both arms are complete."""
    want = plan.tests["tf32"]["runs"]
    if found is None:
        return f"none of its {want['tf32']} tf32 runs are in yet"
    text = (f"{len(found.tf32)} of {want['tf32']} tf32 runs beside {len(found.fp32)} fp32 ones; tf32 over fp32 "
            f"×{found.ratio:.3g} (geometric means, {geo(found.tf32):.3g} against {geo(found.fp32):.3g})")
    if found.p is None:
        return text
    alpha = plan.tests["tf32"]["alpha"]
    if len(found.tf32) >= want["tf32"] and len(found.fp32) >= want["fp32"]:
        verdict = "the arms differ" if found.p < alpha else "no difference between the arms"
        return text + f", Mann-Whitney U p = {found.p:.2g} against α {alpha:g}: {verdict}"
    return text + f", Mann-Whitney U p = {found.p:.2g} so far (not tested until both arms are complete)"


def pending_tests(plan: Plan, rows_by_exp: dict, runs: list[OriginalRun]) -> list[str]:
    """The plan's TF32 and S2-T8 trainer tests: what each shows, or the runs it still needs."""
    out = []
    tf32 = plan.tests.get("tf32")
    if tf32:
        out.append(f"- TF32 arm ({tf32['question']}): {tf32_sentence(plan, tf32_test(plan, rows_by_exp))}.")
    s2 = plan.tests.get("S2-T8 trainer")
    if s2:
        have = sum("attn" in r.entry for r in runs)
        out.append(f"- The original's trainer on S2-T8 `{s2['cell']['attn']}`: {have} of its "
                   f"{s2['runs']['original_trainer']} runs are in.")
    return ["#### The plan's other tests", "", *out, ""] if out else []


def shift_lines(shifts: dict[str, Shift], say: Wording) -> list[str]:
    out = ["### The equal-budget shift", "", say("shift"), "",
           "| original | cells | ours higher | geometric mean | Wilcoxon p | seed 1 alone | seeds ≥ 2 | by table |",
           "|---|---|---|---|---|---|---|---|"]
    for group, s in shifts.items():
        tables = ", ".join(f"{name} {w} of {n}" for name, (w, n) in s.by_table.items())
        seeds = (f"×{s.seed1:.3g}", f"×{s.later:.3g} ({s.paired} cells)") if s.paired else ("–", "–")
        out.append(f"| {group} | {s.cells} | {s.worse} | ×{s.geomean:.3g} | {s.p:.2g} | {seeds[0]} | {seeds[1]} | "
                   f"{tables} |")
    return out + [""]


def discussion(claims: list[Claim], judge: Judge, rows_by_exp: dict, plan: Plan, say: Wording,
               root: Path) -> list[str]:
    """The 'How sure we can be' section: rules, noise, verdict counts, the stopping rule, the shift,
    the original's trainer here, the plan's tests, and the claims' undecided and failed conditions."""
    rules = judge.rules
    out = ["## How sure we can be", "",
           say("how_sure", level=f"{rules.level:.0%}", own_sd=rules.own_sd, margin_low=f"{math.exp(-rules.margin):.2g}",
               margin_high=f"{math.exp(rules.margin):.2g}", bimodal_sds=f"{rules.bimodal_sds:g}",
               solved=f"{rules.solved:g}", seeds=_sentence(rules.text["seeds"])), "", *noise_lines(judge), ""]
    counts = cell_verdicts(judge, rows_by_exp)
    out += [say("cell_counts"), "", "| original | " + " | ".join(ROW_VERDICTS) + " |",
            "|---|" + "---|" * len(ROW_VERDICTS)]
    out += [f"| {g} | " + " | ".join(str(counts[g][v]) for v in ROW_VERDICTS) + " |" for g in counts] + [""]
    out += plan_lines(claims, plan, root)
    out += shift_lines(shift(judge, rows_by_exp), say)
    here = trainer_comparison(original_runs(root), judge, rows_by_exp)
    if here:
        cpus = ", ".join(sorted(set().union(*(c["cpus"] for c in here))))
        out += ["### The original's own trainer, run here", "",
                say("trainer", commits=", ".join(sorted({c["commit"] for c in here})), cpus=cpus), "",
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
