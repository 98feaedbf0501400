"""Claims and rows are judged on intervals from all trials (workflow/verdicts.yaml): each verdict
flips with the data, and stays undecided when the trials cannot tell."""
from pathlib import Path

import markdown
import numpy as np
import pytest
from scipy import stats

from vslm.claims import MASK, SAMPLE, Context, check_claims
from vslm.experiments import Cell, Experiment
from vslm.findings import cell
from vslm.rows import Row
from vslm.settings import resolve
from vslm.verdicts import CONSISTENT, INCONSISTENT, NOT_REPRODUCED, REPRODUCED, UNDECIDED, Judge, Rules, wilson

RULES = Rules.load(Path(__file__).resolve().parent.parent / "workflow" / "verdicts.yaml")
SPREAD = (0.8, 0.9, 1.0, 1.1, 1.25)  # trial-to-trial factors of a cell's error


def row(settings: dict, errors: list, original: dict | None = None, std: dict | None = None) -> Row:
    s = resolve(settings)
    keys = [f"k{i}{hash(str(settings)) % 10**6}" for i in range(len(errors))]
    return Row(Cell(dict(settings), s["samples"]), s, keys, "done", keys, values={SAMPLE: list(errors)},
               original=original or {}, original_std=std or {})


def context(rows: dict, trials: int = 1) -> Context:
    experiments = {name: Experiment(name, {"trials": trials}, []) for name in rows}
    return Context(rows, Judge(RULES, experiments, rows))


def s2t3(errors: dict, factors=SPREAD, original: dict | None = None) -> dict:
    base = dict(task="program", nops="2,5", **{"val-nops": 5}, samples=4_000_000)
    return {"S2-T3": [row(dict(base, l=l), [e * f for f in factors],
                          {SAMPLE: original[l]} if original else None) for l, e in errors.items()]}


def claim(number, rows, **kw):
    return next(c for c in check_claims(context(rows, **kw)) if c.number == number)


def test_order_claim_holds_fails_or_stays_undecided_with_the_data():
    assert claim(3, s2t3({18: 2.6, 12: 27.4, 6: 70.0})).verdict == "holds"
    assert claim(3, s2t3({18: 50.0, 12: 20.0, 6: 70.0})).verdict == "fails"
    assert claim(3, s2t3({18: 2.6, 12: 79.0, 6: 70.0})).verdict == "undecided"  # a tie within the noise
    missing = claim(3, s2t3({18: 2.6, 6: 70.0}))
    assert missing.verdict.startswith("not evaluable") and "l" in missing.verdict


def test_one_trial_cannot_decide_what_five_can():
    """The same cells and spread: two trials per cell leave 40 % against 70 % undecided, five decide."""
    close = {18: 2.6, 12: 40.0, 6: 70.0}
    assert claim(3, s2t3(close)).verdict == "holds"
    assert claim(3, s2t3(close, factors=(0.8, 1.25))).verdict == "undecided"


def test_reproduced_verdict_and_budget_follow_the_numbers():
    same = claim(3, s2t3({18: 2.6, 12: 27.4, 6: 70.0}, original={18: 2.6, 12: 27.4, 6: 70.0}))
    assert same.reproduced == "✓ consistent"  # one original run: inside our prediction interval
    off = claim(3, s2t3({18: 60.0, 12: 27.4, 6: 99.0}, original={18: 0.5, 12: 27.4, 6: 99.0}))
    assert off.reproduced.startswith("✗ inconsistent") and "l=18" in off.reproduced
    assert same.budget == "original"
    assert "l=18: 2.6 % [2.2, 3.06] (n 5)" in same.numbers_text and "(original 2.6 %, n 1)" in same.numbers_text


def c_t2(elu: list, dpfp: list) -> dict:
    base = dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13, dil="3,5,1", attn="0,0,T", qkv="QK")
    return {"C-T2": [row(dict(base, attnact="elu+1"), elu), row(dict(base, attnact="dpfp"), dpfp)]}


def test_equivalence_claim_needs_trials_and_a_small_difference():
    many = [1.0 * f for f in SPREAD] * 4
    assert claim(7, c_t2(many, many)).verdict == "holds"
    assert claim(7, c_t2(many, [10 * v for v in many])).verdict == "fails"
    few = claim(7, c_t2([0.5, 2.0], [0.6, 1.9]))
    assert few.verdict == "undecided" and "power" in few.extra
    power = float(claim(7, c_t2(many, many)).extra.split("difference: ")[1].split("%")[0]) / 100
    assert 0 < power <= 1 and "80 % power needs" in few.extra


def test_row_verdict_and_interval():
    base = dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13, dil="3,5,1", attn="0,0,T", qkv="QK")
    trials = [2.0 * f for f in SPREAD] * 3
    rows = {"C-T1": [row(dict(base, attnact="elu+1"), trials, {SAMPLE: 2.0}, {SAMPLE: 0.5}),
                     row(dict(base, attnact="dpfp"), [40.0 * f for f in SPREAD] * 3, {SAMPLE: 2.0}, {SAMPLE: 0.5})]}
    judge = context(rows, trials=10).judge
    near, far = (judge.compare(r.settings, SAMPLE) for r in rows["C-T1"])
    assert near.verdict == REPRODUCED and near.lo < 0 < near.hi
    assert far.verdict == NOT_REPRODUCED and far.lo > RULES.margin
    lone = context({"C-T1": [row(dict(base, attnact="elu+1"), [2.0], {SAMPLE: 2.0})]}).judge
    assert lone.compare(rows["C-T1"][0].settings, SAMPLE).verdict == UNDECIDED  # no spread known: no verdict


def test_against_one_run_the_prediction_interval_decides():
    """A one-run original inside our 90 % prediction interval for one new trial is consistent, far
    outside inconsistent, whatever our trial count; the interval is mean ± t sd sqrt(1 + 1/n)."""
    base = dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13, dil="3,5,1", attn="0,0,T", qkv="QK")
    trials = [2.0 * f for f in SPREAD]
    for original, want in ((2.2, CONSISTENT), (20.0, INCONSISTENT)):
        r = row(base, trials, {SAMPLE: original})
        c = context({"C-T1": [r]}).judge.compare(r.settings, SAMPLE)
        z = RULES.to_z(SAMPLE, trials)
        half = stats.t.ppf(0.95, len(z) - 1) * z.std(ddof=1) * np.sqrt(1 + 1 / len(z))
        assert c.kind == "prediction" and c.verdict == want
        assert c.hi - c.d == pytest.approx(half) and c.detectable == pytest.approx(np.exp(half))


def test_the_noise_is_our_own():
    """The original's std never enters the pool, and a cell with 5 trials uses its own sd."""
    base = dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13, dil="3,5,1", attn="0,0,T", qkv="QK")
    rows = {"C-T1": [row(dict(base, attnact="elu+1"), [2.0 * f for f in SPREAD], {SAMPLE: 2.0}, {SAMPLE: 0.5}),
                     row(dict(base, attnact="dpfp"), [2.0, 2.1], {SAMPLE: 2.0}, {SAMPLE: 1.9})]}
    wide = {"C-T1": [rows["C-T1"][0], row(dict(base, attnact="dpfp"), [2.0, 2.1], {SAMPLE: 2.0}, {SAMPLE: 0.01})]}
    a, b = (context(r, trials=10).judge for r in (rows, wide))
    assert a.pools == b.pools
    own = a.estimate(rows["C-T1"][0].settings, SAMPLE)
    assert own.source == "own" and own.n == 5 and own.df == 4
    assert a.estimate(rows["C-T1"][1].settings, SAMPLE).source == "pool"


def test_a_bimodal_cell_is_read_by_its_solved_count():
    base = dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13, dil="3,5,1", attn="0,0,T")
    alike = [row(dict(base, qkv="QK", attnact=a), [1.0 * f for f in SPREAD]) for a in ("elu+1", "dpfp")]
    split = row(dict(base, qkv="KV"), [0.2, 0.3, 0.25, 95.0, 0.2], {SAMPLE: 0.3})
    c = context({"C-T1": alike + [split]}).judge.compare(split.settings, SAMPLE)
    assert c.kind == "solved count" and c.verdict == CONSISTENT and "solved in 4 of 5" in c.note
    lo, hi = wilson(4, 5, 0.9)
    ci = stats.binomtest(4, 5).proportion_ci(0.9, method="wilson")
    assert (lo, hi) == pytest.approx((ci.low, ci.high))


def test_a_cell_in_two_tables_is_judged_once_from_all_its_trials():
    base = dict(task="program", nops="1,3", **{"val-nops": 3}, l=3, ks=13, dil="3,5,1", attn="0,0,T", qkv="QK")
    a = row(dict(base, seed=1), [1.0], {SAMPLE: 1.06}, {SAMPLE: 0.57})
    b = row(dict(base, seed=2), [1.5, 0.8], {SAMPLE: 1.0597}, {SAMPLE: 0.57})  # the same runs, rounded
    judge = context({"S2-T7": [a], "C-T2": [b]}, trials=5).judge
    c = judge.compare(a.settings, SAMPLE)
    assert c.ours.n == 3 and c.original.n == 5


@pytest.mark.parametrize("mask", [57.0, 96.1])
def test_a_row_takes_the_worst_verdict_of_its_error_rates(mask):
    """Sample error saturates at 100 %: the mask error decides whether a model at chance reproduces an
    original that learned part of the answers."""
    base = dict(task="program", nops="2,5", model="mamba", **{"val-nops": 5})
    r = row(base, [99.9] * 5, {SAMPLE: 99.9, MASK: 55.8}, {SAMPLE: 0.05, MASK: 1.0})
    r.values[MASK] = [mask * f for f in (0.99, 1.0, 1.01, 0.995, 1.005)]
    judge = context({"S2-T4": [r]}, trials=5).judge
    verdict, found = judge.row(r.settings, [SAMPLE, MASK])
    assert len(found) == 2
    assert (verdict == NOT_REPRODUCED) == (mask > 90)


def test_claim_rules_with_pipes_stay_in_their_cell():
    rule = "|mean elu+1 - mean dpfp| <= the larger trial std"
    line = "| " + " | ".join(cell(v) for v in ("claim", rule, "numbers", "✓")) + " |"
    html = markdown.markdown("| a | b | c | d |\n|---|---|---|---|\n" + line, extensions=["tables"])
    assert html.count("<td>") == 4 and f"<td>{rule.replace('<', '&lt;')}</td>" in html
