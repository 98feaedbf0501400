"""Claims are computed from the numbers: the same rule flips with the data."""
import markdown

from vslm.article import cell
from vslm.claims import SAMPLE, check_claims
from vslm.settings import resolve


def rows(values_by_l: dict) -> list[dict]:
    out = []
    for l, err in values_by_l.items():
        s = resolve(dict(task="program", nops="2,5", **{"val-nops": 5}, l=l))
        out.append({"_settings": s, "_by_metric": {SAMPLE: [err]}})
    return out


def claim3(values_by_l):
    return next(c for c in check_claims({"S2-T3": rows(values_by_l)}) if "18 layers < 12 < 6" in c.text)


def test_claim_verdicts_follow_the_numbers():
    assert claim3({18: 2.6, 12: 27.4, 6: 99.5}).verdict == "✓"
    assert claim3({18: 50.0, 12: 27.4, 6: 99.5}).verdict == "✗"
    missing = claim3({18: 2.6, 6: 99.5})
    assert missing.verdict.startswith("not evaluable") and "l" in missing.verdict
    assert "l=18 2.6%" in claim3({18: 2.6, 12: 27.4, 6: 99.5}).numbers


def test_claim_rules_with_pipes_stay_in_their_cell():
    rule = "|mean elu+1 - mean dpfp| <= the larger trial std"
    row = "| " + " | ".join(cell(v) for v in ("claim", rule, "numbers", "✓")) + " |"
    html = markdown.markdown("| a | b | c | d |\n|---|---|---|---|\n" + row, extensions=["tables"])
    assert html.count("<td>") == 4 and f"<td>{rule.replace('<', '&lt;')}</td>" in html
