"""The stopping rule (workflow/plan.yaml) and the rank test, checked against scipy and exact counts;
a planned claim reads only its own cells' trials, so a run added elsewhere cannot move it."""
import math
from itertools import permutations
from pathlib import Path

import pytest
from scipy import stats

from vslm.claims import SAMPLE, Context, check_claims
from vslm.discussion import tf32_sentence, tf32_test
from vslm.experiments import Cell, Experiment, Run
from vslm.plan_rule import Plan, judge_condition, pocock_alpha
from vslm.rows import Row
from vslm.settings import resolve
from vslm.trainer_runs import Rank
from vslm.verdicts import FAILS, HOLDS, UNDECIDED, Judge, Rules, ratio

ROOT = Path(__file__).resolve().parent.parent
RULES = Rules.load(ROOT / "workflow" / "verdicts.yaml")
PLAN = Plan.load(ROOT / "workflow" / "plan.yaml")
BASE = dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13, dil="3,5,1", attn="0,0,T", attnact="elu+1")
SPREAD = (0.8, 0.9, 1.0, 1.1, 1.25, 0.95, 1.05, 0.85)


def row(settings: dict, errors: list) -> Row:
    s = resolve(settings)
    keys = [f"k{i}{abs(hash(str(settings))) % 10**6}" for i in range(len(errors))]
    runs = [Run(i + 1, resolve(dict(settings, seed=i + 1)), k) for i, k in enumerate(keys)]
    return Row(Cell(dict(settings), s["samples"], runs), s, keys, "done", keys, values={SAMPLE: list(errors)})


def c_t1(errors: dict, n: int = 6) -> dict:
    return {qkv: row(dict(BASE, qkv=qkv), [e * f for f in SPREAD[:n]]) for qkv, e in errors.items()}


def each(rows: dict) -> dict:
    """A condition's cells as judge_condition reads them: each cell's rows (here one table's)."""
    return {name: [r] for name, r in rows.items()}


def test_pocock_level_for_two_looks_matches_the_plan():
    """Two looks at a constant one-sided level whose overall false-positive chance is 5 %: about 0.0304
    (Pocock's constant 1.875), the plan's 0.030 rounded down."""
    assert pocock_alpha(1) == pytest.approx(0.05, abs=1e-5)
    assert pocock_alpha(2) == pytest.approx(1 - stats.norm.cdf(1.875), abs=3e-4)
    assert PLAN.alpha <= pocock_alpha(2) and PLAN.level == pytest.approx(1 - 2 * PLAN.alpha)


def test_a_condition_is_decided_at_its_look_or_waits_for_it():
    cond = PLAN.conditions[6]
    far = judge_condition(cond, each(c_t1({"QK": 1.0, "QKV": 1.5, "QV": 90.0, "KV": 99.0})), RULES, PLAN.level)
    assert far.state == HOLDS and far.look == 1 and far.n == 6 and "decided at look 1" in far.text
    near = judge_condition(cond, each(c_t1({"QK": 1.0, "QKV": 1.5, "QV": 2.0, "KV": 99.0})), RULES, PLAN.level)
    assert near.state == FAILS  # QV/QK odds about 2, its interval wholly below 10
    edge = judge_condition(cond, each(c_t1({"QK": 1.0, "QKV": 1.5, "QV": 12.0, "KV": 99.0})), RULES, PLAN.level)
    assert edge.state == UNDECIDED and "trials go on to 8" in edge.text
    early = judge_condition(cond, each(c_t1({"QK": 1.0, "QKV": 1.5, "QV": 90.0, "KV": 99.0}, n=3)), RULES, PLAN.level)
    assert early.state == UNDECIDED and early.look == 0 and "not reached" in early.text


def test_a_pair_interval_is_welchs():
    cond = PLAN.conditions[6]
    rows = c_t1({"QK": 1.0, "QKV": 1.5, "QV": 90.0, "KV": 99.0})
    pair = judge_condition(cond, each(rows), RULES, PLAN.level).pairs[0]
    a, b = (RULES.to_z(SAMPLE, rows[q].metric(SAMPLE)) for q in (pair.worse, pair.better))
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(PLAN.level)
    assert (pair.lo, pair.hi) == pytest.approx((math.exp(ci.low), math.exp(ci.high)), rel=1e-6)


def test_a_run_added_to_an_unrelated_cell_leaves_a_planned_claim_alone():
    cells = c_t1({"QK": 1.0, "QKV": 1.5, "QV": 90.0, "KV": 99.0})
    other = row(dict(BASE, qkv="QK", attn="0,0,1"), [50.0, 40.0])
    rows = {"C-T1": [*cells.values(), other]}
    more = {"C-T1": [*cells.values(), row(dict(BASE, qkv="QK", attn="0,0,1"), [50.0, 40.0, 1.0, 99.0])]}

    def claim6(rows):
        experiments = {name: Experiment(name, {"trials": 10}, []) for name in rows}
        c = next(c for c in check_claims(Context(rows, Judge(RULES, experiments, rows), PLAN)) if c.number == 6)
        return c.verdict, [x.text for x in c.conditions]

    assert claim6(rows) == claim6(more) and claim6(rows)[0] == HOLDS


def test_the_rank_p_is_the_exact_chance_of_a_rank_this_low():
    """If the reported value were one more draw of the n runs, each of the n + 1 ranks is equally likely."""
    runs = [3.0, 1.0, 4.0, 1.5, 9.0]
    for reported in (0.5, 1.2, 5.0):
        k = sum(v <= reported for v in runs)
        draws = list(permutations(runs + [reported]))
        low = sum(sum(v < d[-1] for v in d[:-1]) <= k for d in draws) / len(draws)
        assert Rank(k, len(runs)).p == pytest.approx(low)


def loss_row(precision: str, losses: list) -> Row:
    settings = dict(task="selcopy", l=6, ks=9, dil="1,2,3,4,5,1", precision=precision)
    r = row(settings, losses)
    r.values = {"validation loss": list(losses)}
    return r


def test_the_tf32_arm_is_tested_only_when_both_arms_are_complete_and_never_judged():
    fp32 = [4.0e-4, 4.5e-4, 5.0e-4, 3.8e-4, 4.2e-4, 5.5e-4, 4.8e-4, 4.4e-4, 4.1e-4, 4.7e-4]
    tf32 = [v * 2 for v in fp32]
    full = {"S1-T4": [loss_row("fp32", fp32)], "P-T1": [loss_row("fp32", fp32), loss_row("tf32", tf32)]}
    found = tf32_test(PLAN, full)
    assert len(found.fp32) == 10  # the fp32 cell shown in two tables counts once
    assert found.p == pytest.approx(stats.mannwhitneyu(tf32, fp32, alternative="two-sided").pvalue)
    assert found.ratio == pytest.approx(2.0)
    assert tf32_sentence(PLAN, found).endswith(": the arms differ")
    same = {"S1-T4": [loss_row("fp32", fp32)], "P-T1": [loss_row("tf32", fp32[::-1])]}
    assert tf32_sentence(PLAN, tf32_test(PLAN, same)).endswith(": no difference between the arms")
    part = {"S1-T4": [loss_row("fp32", fp32)], "P-T1": [loss_row("tf32", tf32[:4])]}
    assert "not tested until both arms are complete" in tf32_sentence(PLAN, tf32_test(PLAN, part))
    assert tf32_test(PLAN, {"S1-T4": [loss_row("fp32", fp32)]}) is None
    # the tf32 runs are another platform's arithmetic: no verdict and no share in the noise
    experiments = {name: Experiment(name, {"trials": 1}, []) for name in full}
    judge = Judge(RULES, experiments, full)
    assert all(side.raw != tf32 for side in judge.ours.values())


@pytest.mark.parametrize("factor, shown", [(1.03, "1.03"), (0.96, "0.96"), (1.002, "1"), (2.345, "2.3"), (250.4, "250"),
                                           (0.004, "1/250")])
def test_a_factor_is_printed_without_an_exponent_and_apart_from_1(factor, shown):
    assert ratio(factor) == shown
