"""Claims are computed from the numbers: the same rule flips with the data, and so does the
'original reproduced' verdict."""
import math

import markdown

from vslm.article import cell
from vslm.claims import MASK, SAMPLE, check_claims, permutation_p
from vslm.compare import reproduces
from vslm.experiments import Cell
from vslm.settings import resolve
from vslm.tables import Row, row_reproduced


def rows(values_by_l: dict, original=None, samples=4_000_000) -> list[Row]:
    out = []
    for l, err in values_by_l.items():
        s = resolve(dict(task="program", nops="2,5", **{"val-nops": 5}, l=l, samples=samples))
        ref = {SAMPLE: original[l]} if original else {}
        out.append(Row(Cell({"l": l}, 4_000_000), s, ["k"], "done", ["k"], values={SAMPLE: [err]}, original=ref))
    return out


def claim(number, R):
    return next(c for c in check_claims(R) if c.number == number)


ORIGINAL = {18: 2.5577, 12: 27.3885, 6: 99.5123}


def test_claim_verdicts_follow_the_numbers():
    assert claim(3, {"S2-T3": rows({18: 2.6, 12: 27.4, 6: 99.5})}).verdict == "✓"
    assert claim(3, {"S2-T3": rows({18: 50.0, 12: 27.4, 6: 99.5})}).verdict == "✗"
    # a tie, or a difference of a few samples, is no order
    assert claim(3, {"S2-T3": rows({18: 2.6, 12: 99.97, 6: 99.97})}).verdict == "✗"
    assert claim(3, {"S2-T3": rows({18: 2.6, 12: 99.0, 6: 99.5})}).verdict == "✗"
    missing = claim(3, {"S2-T3": rows({18: 2.6, 6: 99.5})})
    assert missing.verdict.startswith("not evaluable") and "l" in missing.verdict


def test_reproduced_verdict_and_budget_follow_the_numbers():
    same = claim(3, {"S2-T3": rows({18: 2.6, 12: 27.4, 6: 99.5}, ORIGINAL)})
    assert same.reproduced == "✓" and same.budget == "original"
    assert "l=18: 2.6 % (original 2.56 %)" in same.numbers_text
    off = claim(3, {"S2-T3": rows({18: 9.0, 12: 27.4, 6: 99.5}, ORIGINAL, samples=1_000_000)})
    assert off.verdict == "✓" and off.reproduced == "✗ (l=18)"
    assert off.budget == "below the original: 1M of 4M"


def test_tolerance_rule():
    assert reproduces(99.9, 99.5) and reproduces(3.0, 2.56) and reproduces(0.5, 0.06)
    assert not reproduces(9.0, 2.56) and not reproduces(100.0, 98.5) and not reproduces(60.0, 27.4)
    assert reproduces(1.2, 0.6, (0.2, 1.3)) and not reproduces(1.2, 0.6, (0.2, 1.05))
    assert reproduces(0.003, 0.002, percent=False) and not reproduces(0.003, 0.0013, percent=False)
    assert reproduces(5.0, math.nan) is None


def test_a_row_is_judged_on_every_error_rate_the_original_reports():
    """Sample error saturates at 100 %: a model at chance (mask error 96 %) does not reproduce an
    original that learned part of the answers (56 %); columns the original lacks are not judged."""
    s = resolve(dict(task="program", nops="2,5", model="mamba", **{"val-nops": 5}))

    def row(mask: float, original_mask: float = 55.8) -> Row:
        return Row(Cell({}, 4_000_000), s, ["k"], "done", ["k"], values={SAMPLE: [100.0], MASK: [mask]},
                   original={SAMPLE: 99.18, MASK: original_mask})

    assert row_reproduced(row(57.0), [SAMPLE, MASK]) and not row_reproduced(row(96.1), [SAMPLE, MASK])
    assert row_reproduced(row(96.1, math.nan), [SAMPLE, MASK])
    assert row_reproduced(row(96.1), []) is None


def test_permutation_test_separates_shifted_trials_only():
    assert permutation_p([1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 11.0, 12.0, 13.0, 14.0]) < 0.01
    assert permutation_p([1.0, 3.0, 5.0, 2.0, 4.0], [2.5, 3.5, 1.5, 4.5, 3.0]) > 0.5


def test_claim_rules_with_pipes_stay_in_their_cell():
    rule = "|mean elu+1 - mean dpfp| <= the larger trial std"
    row = "| " + " | ".join(cell(v) for v in ("claim", rule, "numbers", "✓")) + " |"
    html = markdown.markdown("| a | b | c | d |\n|---|---|---|---|\n" + row, extensions=["tables"])
    assert html.count("<td>") == 4 and f"<td>{rule.replace('<', '&lt;')}</td>" in html
