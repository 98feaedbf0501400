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
from .columns import label
from .plan_rule import Plan, trials_by_seed
from .rundir import load_result
from .trainer_runs import geo, lucky_rank, nearer
from .verdicts import FAITHFUL, LOSS, ROW_VERDICTS, Judge, distinct_cells, identity
from .wording import Wording


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


def cell_verdicts(judge: Judge, rows_by_exp: dict) -> dict[str, Counter]:
    """The distinct cells at the original budget with an original value, counted by verdict (on
    sample error where the original reports it, else loss), by whether the original is one run."""
    counts = {g: Counter() for g in GROUPS}
    for _, r in distinct_cells(rows_by_exp):
        found = [c for m in (LOSS, "validation_sample_error%") if (c := judge.compare(r.settings, m))]
        if r.settings["samples"] >= r.cell.original_samples and found:
            counts[GROUPS[found[-1].original.n > 1]][found[-1].verdict] += 1
    return counts


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _sentence(text: str) -> str:
    """`text` as a sentence of its own: capitalised, one full stop."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def noise_lines(judge: Judge) -> list[str]:
    out = ["| task | metric | regime | sd (transformed scale) | degrees of freedom |", "|---|---|---|---|---|"]
    for (task, metric, regime), (sd, df) in sorted(judge.pools.items(), key=lambda kv: tuple(map(str, kv[0]))):
        out.append(f"| {task} | {label(metric)} | {regime or 'all'} | {sd:.3g} | {df} |")
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
        cell = plan_cell(test, here)
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


def plan_cell(test: dict, here: list[dict]) -> dict | None:
    """The cell of `here` (trainer_comparison's) that a plan test names."""
    where = {k: v for k, v in test["cell"].items() if k != "table"}
    return next((c for c in here if all(matches(c["settings"], k, v) for k, v in where.items())), None)


def pending_tests(plan: Plan, rows_by_exp: dict, here: list[dict]) -> list[str]:
    """The plan's TF32 and S2-T8 trainer tests: what each shows, or the runs it still needs."""
    out = []
    tf32 = plan.tests.get("tf32")
    if tf32:
        out.append(f"- TF32 arm ({tf32['question']}): {tf32_sentence(plan, tf32_test(plan, rows_by_exp))}.")
    s2 = plan.tests.get("S2-T8 trainer")
    if s2:
        cell, want = plan_cell(s2, here), s2["runs"]["original_trainer"]
        have = len(cell["here"]) if cell else 0
        text = (f"- The original's trainer on S2-T8 `{s2['cell']['attn']}` ({s2['question']}): {have} of its "
                f"{want} runs are in")
        if cell and have >= want:
            text += "; " + _trainer_reading([cell]).rstrip(".")
        out.append(text + ".")
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


def discussion(claims: list[Claim], judge: Judge, rows_by_exp: dict, plan: Plan, say: Wording, here: list[dict],
               root: Path) -> list[str]:
    """The 'How sure we can be' section: rules, noise, verdict counts, the stopping rule, the shift,
    the original's trainer here (`here`: `trainer_comparison`'s cells), the plan's tests, and the
    claims' undecided and failed conditions."""
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
    if here:
        cpus = ", ".join(sorted(set().union(*(c["cpus"] for c in here))))
        out += ["### The original's own trainer, run here", "",
                say("trainer", commits=", ".join(sorted(set().union(*(c["commits"] for c in here)))), cpus=cpus), "",
                "| cell | metric | original's code here (seeds) | geometric mean | ours (vslm) | geometric mean | "
                "reported | ours ÷ original's code, same seed |", "|---|---|---|---|---|---|---|---|"]
        for c in here:
            values = lambda vs: ", ".join(f"{v:.3g}" for v in vs)  # noqa: E731
            paired = ", ".join(f"×{v:.3g}" for v in c["paired"])
            seeds = ", ".join(map(str, c["seeds"]))
            out.append(f"| {c['label']} | {label(c['metric'])} | {values(c['here'])} ({seeds}) | "
                       f"{geo(c['here']):.3g} | {values(c['ours'])} | {geo(c['ours']):.3g} | {values(c['reported'])} | "
                       f"{paired} |")
        out += ["", _trainer_reading(here), ""] + lucky_lines(plan, here)
    out += pending_tests(plan, rows_by_exp, here)
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
