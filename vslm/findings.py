"""The judged parts of the article, in markdown: the findings that open it, the claims at a glance
and per section, and the rule changes. The judging job (`vslm.judged`) writes them."""
from __future__ import annotations

import math
import re
from collections import Counter

from .claims import Claim
from .discussion import cell_verdicts, shift, tf32_sentence, tf32_test
from .plan_rule import Plan
from .trainer_runs import lucky_rank, nearer
from .verdicts import CONSISTENT, FAILS, HOLDS, INCONSISTENT, NOT_REPRODUCED, REPRODUCED, UNDECIDED, Judge
from .wording import Wording


def cell(text: str) -> str:
    """A markdown table cell: pipes in the text (e.g. |a - b|) escaped so they stay in the cell."""
    return str(text).replace("|", r"\|")


def claim_counts(claims: list[Claim]) -> str:
    """How many claims hold, fail, are undecided."""
    verdicts = Counter(c.verdict for c in claims)
    return (f"{verdicts[HOLDS]} of {len(claims)} claims hold on our numbers, {verdicts[FAILS]} do not and "
            f"{verdicts[UNDECIDED]} are undecided")


REVISED_AFTER = re.compile(r"after the [^;]*(seen|numbers)|had been seen")


def findings(claims: list[Claim], judge: Judge, rows: dict, plan: Plan, here: list[dict]) -> list[str]:
    """'What we found': a few plain sentences, each with its number and the section it comes from
    (`here`: the original's trainer beside ours, `trainer_comparison`'s cells)."""
    cells = cell_verdicts(judge, rows)
    held = [str(c.number) for c in claims if c.verdict == HOLDS]
    open_ = [str(c.number) for c in claims if c.verdict == UNDECIDED]
    out = ["## What we found", "",
           f"- **Claims.** {claim_counts(claims)} (holding: {', '.join(held) or 'none'}; undecided: "
           f"{', '.join(open_) or 'none'}); see [the claims](#the-claims-at-a-glance)."]
    one, many = cells["one-run"], cells["several-run"]
    out.append(f"- **The original's values.** Of {sum(one.values())} cells whose original is one run, "
               f"{one[CONSISTENT]} are consistent with our trials (the original inside our 90 % prediction "
               f"interval for one new trial) and {one[INCONSISTENT]} are not; of {sum(many.values())} cells whose "
               f"original is a mean of several trials, {many[REPRODUCED]} reproduce within "
               f"×{math.exp(judge.rules.margin):.2g}, {many[NOT_REPRODUCED]} do not and {many[UNDECIDED]} are "
               "undecided ([how sure](#how-sure-we-can-be)).")
    here = [(c, n) for c in here if (n := nearer(c))]
    if here:
        near = [c["label"] for c, n in here if n[2] == "ours"]
        other = [f"{c['label']}, where ours and the reported are ×{max(n[1] / n[0], n[0] / n[1]):.3g} apart"
                 for c, n in here if n[2] != "ours"]
        ranks = [f"{c['label']} {r.k + 1} of {r.n + 1} (P = {r.p:.2g})" for c, _ in here if (r := lucky_rank(c))]
        out.append(f"- **The original's own code, run here**, lands nearer our numbers than its reported ones in "
                   f"{len(near)} of {len(here)} cells" + (f" (not in {'; '.join(other)})" if other else "") +
                   ". The reported value's rank among all CPU runs of its cell (ours and its code's; 1 = the "
                   f"lowest value): {'; '.join(ranks)} ([the trainer](#the-originals-own-trainer-run-here)).")
    out.append("- **The shift.** Our validation loss against the original's: " + "; ".join(
        f"{group} originals, higher in {s.worse} of {s.cells} cells, ×{s.geomean:.3g} geometric mean (Wilcoxon "
        f"p = {s.p:.2g})" + (f", seed 1 alone ×{s.seed1:.3g}, seeds ≥ 2 ×{s.later:.3g} over the {s.paired} cells "
                             "with both" if s.paired else "") for group, s in shift(judge, rows).items())
        + " ([the shift](#the-equal-budget-shift)).")
    if "tf32" in plan.tests:
        table = plan.tests["tf32"]["cell"]["table"]
        out.append(f"- **The platform test** (TF32 convolutions, the original's CUDA default, on {table}'s dilated "
                   f"cell): {tf32_sentence(plan, tf32_test(plan, rows))} ([the plan's tests](#the-plans-other-tests)).")
    planned = [c for c in claims if c.number in plan.conditions and c.conditions]
    if planned:
        out.append("- **The stopping rule** (`workflow/plan.yaml`): " + "; ".join(
            f"claim {c.number} {c.conditions[0].state}, {c.conditions[0].text.split(':')[0]}" for c in planned) + ".")
    after = sum(bool(REVISED_AFTER.search(c.history)) for c in claims)
    out.append(f"- **Rules changed after the data.** {after} of {len(claims)} claim rules were revised after "
               "results had been seen; each change, and the old rule's verdict where it differs, is listed under "
               "[how sure](#how-sure-we-can-be).")
    return out + [""]


def numbers_cell(c: Claim) -> str:
    """Per number: ours [90 % interval] (n), the original's (n)."""
    return "; ".join(str(n) for n in c.numbers)


def claims_glance(claims: list[Claim], say: Wording) -> list[str]:
    out = ["## The claims at a glance", "", say("glance_legend"), "",
           "| # | claim | holds | old rule | rule | ours [90 % interval] (n) and the original's (n) | reproduced |",
           "|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(cell(v) for v in (
        c.number, c.text, f"{c.mark} {c.verdict}", c.old_verdict or "", c.rule, numbers_cell(c) or "–",
        c.reproduced)) + " |" for c in claims]
    return out + [""]


def rule_changes(claims: list[Claim], history: list[dict]) -> list[str]:
    """Each claim's rule changes, with when they were made relative to the runs they judge, and the
    changes to the shared rules of workflow/verdicts.yaml (its `history`)."""
    out = ["### Rule changes", "", "| claim | changes (dates; before or after the data) | verdict now | "
           "under the old rule |", "|---|---|---|---|"]
    out += ["| " + " | ".join(cell(v) for v in (c.number, c.history, c.verdict, c.old_verdict or "–")) + " |"
            for c in claims if c.history != "unchanged"]
    if history:
        out += ["", "Changes to `workflow/verdicts.yaml`:", "", "| date | after the data | what | old | new | why |",
                "|---|---|---|---|---|---|"]
        out += ["| " + " | ".join(cell(h.get(k, "")) for k in ("date", "after_data", "what", "old", "new", "reason"))
                + " |" for h in history]
    return out + [""]


def claims_table(claims: list[Claim]) -> list[str]:
    out = ["#### Claims checked", "",
           "| # | claim | rule | why this rule | our numbers [90 % interval] (n); conditions | holds | "
           "reproduced |", "|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(cell(v) for v in (c.number, c.text, c.rule, c.reason, c.numbers_text,
                                                  f"{c.mark} {c.verdict}", c.reproduced)) + " |" for c in claims]
    return out + [""]
