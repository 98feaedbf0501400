"""The seed's claims, checked on our own numbers: each has a rule, the numbers it used and
a verdict computed from the table rows (never written by hand)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .settings import format_value

SAMPLE, MASK = "validation_sample_error%", "validation_mask_error%"


@dataclass
class Claim:
    section: str
    text: str
    rule: str
    numbers: str = ""
    verdict: str = "not evaluable"  # ✓, ✗ or why it could not be checked


class Missing(Exception):
    pass


def _values(rows_by_exp: dict, exp: str, metric: str, where: dict) -> list[float]:
    """The finished trials' `metric` (a metrics.json key) of the row of `exp` whose settings display as `where`."""
    for r in rows_by_exp.get(exp, []):
        if all(format_value(k, r["_settings"][k]) == str(v) for k, v in where.items()):
            return r["_by_metric"].get(metric) or []
    raise Missing(f"{exp} has no row {where}")


def pick(rows_by_exp: dict, exp: str, metric: str, **where) -> float:
    """Mean `metric` of the row of `exp` whose settings display as `where` (e.g. l="6")."""
    values = _values(rows_by_exp, exp, metric, where)
    if not values:
        raise Missing(f"{exp} {where} has no finished run")
    return float(np.mean(values))


def spread(rows_by_exp: dict, exp: str, metric: str, **where) -> float:
    values = _values(rows_by_exp, exp, metric, where)
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def _fmt(d: dict) -> str:
    return ", ".join(f"{k} {v:.3g}%" for k, v in d.items())


def _check(section, text, rule, compute):
    claim = Claim(section, text, rule)
    try:
        numbers, ok = compute()
    except Missing as e:
        claim.verdict = f"not evaluable ({e})"
        return claim
    claim.numbers, claim.verdict = numbers, "✓" if ok else "✗"
    return claim


def check_claims(R: dict) -> list[Claim]:
    """R: experiment name -> table rows (vslm.tables.build_rows)."""
    def c1():
        v = {f"l={l}": pick(R, "S2-T2", SAMPLE, nops=5, l=l) for l in (6, 12, 18)}
        return _fmt(v), all(x > 90 for x in v.values())

    def c2():
        v = {f"3 ops l={l}": pick(R, "S2-T2", SAMPLE, nops=3, l=l) for l in (12, 18)}
        v.update({f"4 ops l={l}": pick(R, "S2-T2", SAMPLE, nops=4, l=l) for l in (6, 18)})
        ok = v["3 ops l=12"] < 5 and v["3 ops l=18"] < 5 and v["4 ops l=18"] < 0.5 * v["4 ops l=6"]
        return _fmt(v), ok

    def c3():
        v = {f"l={l}": pick(R, "S2-T3", SAMPLE, l=l) for l in (18, 12, 6)}
        return _fmt(v), v["l=18"] < v["l=12"] < v["l=6"]

    def c4():
        v = {m: pick(R, "S2-T4", SAMPLE, model=m) for m in ("lstm", "mamba", "conv")}
        return _fmt(v), all(x > 90 for x in v.values())

    def c5():
        v = {"no attention": pick(R, "S2-T7", SAMPLE, attn="0,0,0"),
             "attn 0,0,T": pick(R, "S2-T7", SAMPLE, attn="0,0,T")}
        return _fmt(v), v["no attention"] > 90 and v["attn 0,0,T"] < 5

    def c6():
        v = {q: pick(R, "C-T1", SAMPLE, attn="0,0,T", qkv=q) for q in ("QK", "QKV", "QV", "KV")}
        return _fmt(v), v["QK"] < 10 and v["QKV"] < 10 and v["QV"] > 50 and v["KV"] > 50

    def c7():
        v = {a: pick(R, "C-T2", SAMPLE, attnact=a) for a in ("elu+1", "dpfp")}
        sd = max(spread(R, "C-T2", SAMPLE, attnact=a) for a in ("elu+1", "dpfp"))
        if math.isnan(sd):
            raise Missing("C-T2 needs at least 2 trials per cell for a spread")
        return _fmt(v) + f", largest std {sd:.3g}", abs(v["elu+1"] - v["dpfp"]) <= sd

    def c8():
        rows = [r for r in R.get("S2-T8", []) if r["_by_metric"].get(SAMPLE)]
        if len(rows) < 5:
            raise Missing("S2-T8 has fewer than 5 finished cells")
        best = sorted(rows, key=lambda r: np.mean(r["_by_metric"][SAMPLE]))[:5]
        pats = [format_value("attn", r["_settings"]["attn"]) for r in best]
        return "best five: " + "; ".join(pats), all(p.endswith("T") for p in pats)

    def c9():
        base = dict(area=40, ch=32)
        v = {"ks 13 dil 5,7,1, no attention": pick(R, "R-T1", SAMPLE, ks=13, dil="5,7,1", attn="0,0,0", **base),
             "ks 7, attention 0,0,T": pick(R, "R-T1", SAMPLE, ks=7, dil=1, attn="0,0,T", **base),
             "ks 13 dil 5,7,1 + attention": pick(R, "R-T1", SAMPLE, ks=13, dil="5,7,1", attn="0,0,T", **base)}
        a, b, c = v.values()
        return _fmt(v), a > 50 and b > 50 and c < 1

    def c10():
        v = {"l=12": pick(R, "S1-T4", MASK, l=12, dil=1),
             "l=6 dil 1,2,3,4,5,1": pick(R, "S1-T4", MASK, l=6, ks=9, dil="1,2,3,4,5,1"),
             "l=6 dil 1": pick(R, "S1-T4", MASK, l=6, ks=9, dil=1)}
        return _fmt(v), v["l=12"] < 1 and v["l=6 dil 1,2,3,4,5,1"] < 1 and v["l=6 dil 1"] > 20

    return [
        _check("Very selective copying", "With exactly 5 operations, 6-, 12- and 18-layer convs all fail.",
               "validation sample error > 90 % for l = 6, 12, 18 at nops = 5 (S2-T2)", c1),
        _check("Very selective copying", "Up to 3 operations are solved by 12 and 18 layers; 4 operations need depth.",
               "nops 3: sample error < 5 % for l 12 and 18; nops 4: l 18 below half of l 6 (S2-T2)", c2),
        _check("Very selective copying", "Trained on 2-5 operations, validated on 5: 18 layers < 12 < 6.",
               "sample error l18 < l12 < l6 (S2-T3; original 2.6 / 27 / 99.5 %)", c3),
        _check("Very selective copying", "The 6-layer LSTM and Mamba fail on 5 operations like the 6-layer conv.",
               "sample error > 90 % for LSTM, Mamba and conv (S2-T4)", c4),
        _check("Self-attention", "3 layers, 3 operations: no attention fails, linear QK attention in the last layer works.",
               "no attention > 90 %, attn 0,0,T < 5 % sample error (S2-T7)", c5),
        _check("Self-attention (corrected)", "Self-built attention: QK and QKV work, QV and KV fail.",
               "attn 0,0,T: QK and QKV < 10 %, QV and KV > 50 % sample error (C-T1)", c6),
        _check("Self-attention (corrected)", "elu+1 and DPFP are indistinguishable within the spread of trials.",
               "|mean elu+1 - mean dpfp| <= the larger trial std (C-T2)", c7),
        _check("Self-attention", "In 5-layer nets the attention must be in the last layer.",
               "the five patterns with the lowest sample error all end in T (S2-T8)", c8),
        _check("Receptive field and self-attention",
               "Area 40, 3 layers: a large receptive field alone fails, attention alone fails, both together solve it.",
               "ch 32: ks13/dil 5,7,1 > 50 %, ks7 + attn > 50 %, both < 1 % sample error (R-T1)", c9),
        _check("Selective copying",
               "12 layers or 6 layers with dilation 1,2,3,4,5,1 solve selective copying; 6 plain layers do not.",
               "mask error: l12 < 1 %, l6 dil 1,2,3,4,5,1 < 1 %, l6 dil 1 > 20 % (S1-T4)", c10),
    ]
