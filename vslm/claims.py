"""The seed's claims, checked on our own numbers.

Each claim is a registered function of the table rows: it returns the numbers it used and
whether its rule holds. A claim carries the rule, the reason for its threshold (drawn from the
original's numbers) and the rule's history. Two verdicts are computed, never written by hand:
whether the claim holds on our numbers, and whether our numbers reproduce the original's
(`vslm.compare`).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .compare import reproduces
from .settings import format_samples, format_value, parse_value
from .tables import Row

SAMPLE, MASK, LOSS = "validation_sample_error%", "validation_mask_error%", "validation_loss"


@dataclass
class Number:
    label: str
    ours: float
    original: float = math.nan
    original_range: tuple | None = None
    metric: str = SAMPLE
    samples: int = 0  # our run's budget
    original_samples: int = 0  # the original's

    @property
    def reproduced(self) -> bool | None:
        return reproduces(self.ours, self.original, self.original_range, percent=self.metric != LOSS)

    def __str__(self) -> str:
        unit = "" if self.metric == LOSS else " %"
        text = f"{self.label}: {self.ours:.3g}{unit}"
        if self.original_range:
            return text + f" (original {self.original:.3g}{unit}, trials {self.original_range[0]:.3g}-" \
                          f"{self.original_range[1]:.3g})"
        return text + (f" (original {self.original:.3g}{unit})" if not math.isnan(self.original) else "")


@dataclass
class Claim:
    number: int
    section: str
    text: str
    rule: str
    reason: str
    history: str
    numbers: list[Number] = field(default_factory=list)
    extra: str = ""
    verdict: str = "not evaluable"  # ✓, ✗ or why it could not be checked
    reproduced: str = ""

    @property
    def budget(self) -> str:
        """Whether the runs used had the original's budget, e.g. 'below the original: 1M of 4M'."""
        if not self.numbers:
            return ""
        short = sorted({(n.samples, n.original_samples) for n in self.numbers if n.samples < n.original_samples})
        if not short:
            return "original"
        return "below the original: " + ", ".join(f"{format_samples(a)} of {format_samples(b)}" for a, b in short)

    @property
    def numbers_text(self) -> str:
        return "; ".join(str(n) for n in self.numbers) + (f"; {self.extra}" if self.extra else "")


class Missing(Exception):
    pass


CLAIMS: list[tuple[dict, Callable]] = []  # (the claim's text fields, its check)


def claim(section: str, text: str, rule: str, reason: str, history: str = "unchanged"):
    """Register a check: f(rows_by_exp) -> (numbers, holds[, extra text])."""
    def register(f):
        CLAIMS.append((dict(section=section, text=text, rule=rule, reason=reason, history=history), f))
        return f
    return register


def matches(settings: dict, key: str, value) -> bool:
    """Whether a resolved setting equals `value` written as in the config (a single per-layer
    value stands for every layer, e.g. dil=1)."""
    parsed, actual = parse_value(key, value), settings[key]
    if isinstance(actual, list) and isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed * len(actual)
    return parsed == actual


def _where(where: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in where.items())


def find_row(R: dict, exp: str, **where) -> Row:
    """The row of `exp` whose resolved settings equal `where` (e.g. l=6, dil="5,7,1")."""
    for r in R.get(exp, []):
        if all(matches(r.settings, k, v) for k, v in where.items()):
            return r
    raise Missing(f"{exp} has no row {_where(where)}")


def number(R: dict, exp: str, label: str, metric: str = SAMPLE, **where) -> Number:
    """Our mean of `metric` in a row, with the original's value (and trial range) beside it."""
    row = find_row(R, exp, **where)
    col = row.column(metric)
    if col is None or not row.values[col]:
        raise Missing(f"{exp} {_where(where)} has no finished run")
    return Number(label, row.mean(col), row.original.get(col, math.nan), row.original_range.get(col), metric,
                  row.settings["samples"], row.cell.original_samples)


def permutation_p(a: list[float], b: list[float]) -> float:
    """Exact two-sided permutation test of the difference of means (every split of a + b)."""
    pooled, n = np.array(a + b), len(a)
    observed = abs(np.mean(a) - np.mean(b))
    diffs = [abs(pooled[list(idx)].mean() - np.delete(pooled, idx).mean())
             for idx in itertools.combinations(range(len(pooled)), n)]
    return float(np.mean(np.array(diffs) >= observed - 1e-12))


@claim("Very selective copying", "With exactly 5 operations, 6-, 12- and 18-layer convs all fail.",
       "sample error > 90 % for l = 6, 12, 18 at nops = 5 (S2-T2)",
       "the original's three are at 98.5-99.9 %; above 90 % no model has learned the task")
def _c1(R):
    v = [number(R, "S2-T2", f"l={l}", nops=5, l=l) for l in (6, 12, 18)]
    return v, all(n.ours > 90 for n in v)


@claim("Very selective copying", "Up to 3 operations are solved by 12 and 18 layers; 4 operations need depth.",
       "sample error < 1 % for l 12 and 18 at nops 3 and for l 18 at nops 4; > 90 % for l 6 at nops 4 (S2-T2)",
       "'solved' as the original's solved rows: 0-0.19 %; its failing 4-operation 6-layer row is at 98.6 %",
       "revised 2026-11-30, before the original-budget runs finished: was '< 5 % at nops 3; nops 4: l18 below "
       "half of l6' (✗ on the cpu scale, 500k samples)")
def _c2(R):
    v = [number(R, "S2-T2", f"3 ops l={l}", nops=3, l=l) for l in (12, 18)]
    v += [number(R, "S2-T2", f"4 ops l={l}", nops=4, l=l) for l in (18, 6)]
    return v, all(n.ours < 1 for n in v[:3]) and v[3].ours > 90


@claim("Very selective copying", "Trained on 2-5 operations, validated on 5: 18 layers < 12 < 6.",
       "sample error l18 < l12 < l6, each by more than 1 percentage point (S2-T3)",
       "1 point is 100 of the 10,000 validation samples: a tie or a few samples is no order (original "
       "2.6 / 27.4 / 99.5 %)",
       "revised 2026-11-30, before the original-budget runs finished: was a strict l18 < l12 < l6 (✗ on the "
       "cpu scale on a tie, 99.97 % for l12 and l6)")
def _c3(R):
    v = [number(R, "S2-T3", f"l={l}", l=l) for l in (18, 12, 6)]
    return v, v[0].ours < v[1].ours - 1 and v[1].ours < v[2].ours - 1


@claim("Very selective copying", "The 6-layer LSTM and Mamba fail on 5 operations like the 6-layer conv.",
       "sample error > 90 % and mask error < 90 % for LSTM, Mamba and conv (S2-T4)",
       "the original's three fail at 99.2-100 % sample error after learning part of the answers (mask error "
       "55.8-80.0 %); chance is 96.2 % (25 of 26 letters wrong), so a model at chance has not 'failed like' them",
       "revised 2026-11-30, before the original-budget runs finished: was 'sample error > 90 %' only (✓ on "
       "the cpu scale with Mamba at chance)")
def _c4(R):
    v = [number(R, "S2-T4", m, model=m) for m in ("lstm", "mamba", "conv")]
    v += [number(R, "S2-T4", f"{m} mask", MASK, model=m) for m in ("lstm", "mamba", "conv")]
    return v, all(n.ours > 90 for n in v[:3]) and all(n.ours < 90 for n in v[3:])


@claim("Self-attention", "3 layers, 3 operations: no attention fails, linear QK attention in the last layer works.",
       "no attention > 90 %, attn 0,0,T < 2.2 % sample error (S2-T7)",
       "original: 99.5 % without attention (S2-T5), 1.06 ± 0.57 % with it over 5 trials; 2.2 % is its mean + "
       "2 std",
       "revised 2026-11-30 after the cpu-scale numbers (at the original budget) were seen: was '< 5 %' (✓)")
def _c5(R):
    v = [number(R, "S2-T7", "no attention", attn="0,0,0"), number(R, "S2-T7", "attn 0,0,T", attn="0,0,T")]
    return v, v[0].ours > 90 and v[1].ours < 2.2


@claim("Self-attention (corrected)", "Self-built attention: QK and QKV work, QV and KV fail.",
       "attn 0,0,T: QK and QKV < 2.5 %, QV and KV > 85 % sample error (C-T1)",
       "just outside the original's worst trials of 10: QK ≤ 1.98 %, QKV ≤ 2.23 %, QV ≥ 88.6 %, KV ≥ 99.0 %",
       "revised 2026-11-30 after the cpu-scale numbers (at the original budget, one trial) were seen: was "
       "'< 10 % and > 50 %' (✓)")
def _c6(R):
    v = [number(R, "C-T1", q, attn="0,0,T", qkv=q) for q in ("QK", "QKV", "QV", "KV")]
    return v, v[0].ours < 2.5 and v[1].ours < 2.5 and v[2].ours > 85 and v[3].ours > 85


@claim("Self-attention (corrected)", "elu+1 and DPFP are indistinguishable within the spread of trials.",
       "an exact two-sided permutation test of the difference of the mean sample errors finds no difference "
       "at 5 % (C-T2's trials)",
       "it uses every trial and no spread estimate, so it does not flip with the trial count; the same test on "
       "the original's five trials each (C-T3) is shown",
       "revised 2026-11-30 after the cpu-scale numbers (at the original budget) were seen: was '|mean elu+1 "
       "- mean dpfp| ≤ the larger trial std' (✗ with 3 trials, ✓ with 5)")
def _c7(R):
    v = [number(R, "C-T2", a, attnact=a) for a in ("elu+1", "dpfp")]
    ours = [find_row(R, "C-T2", attnact=a).metric(SAMPLE) for a in ("elu+1", "dpfp")]
    if min(len(t) for t in ours) < 2:
        raise Missing("C-T2 needs at least 2 finished trials per activation")
    p = permutation_p(*ours)
    orig = [[r.original.get(r.column(SAMPLE), math.nan) for r in R.get("C-T3", [])
             if r.settings["attnact"] == a] for a in ("elu+1", "dpfp")]
    extra = f"p = {p:.3g} ({len(ours[0])} + {len(ours[1])} trials)"
    if all(len(t) >= 2 and not any(map(math.isnan, t)) for t in orig):
        extra += f"; the original's trials: p = {permutation_p(*orig):.3g}"
    return v, p >= 0.05, extra


@claim("Self-attention", "In 5-layer nets the attention must be in the last layer.",
       "the five patterns with the lowest sample error all end in T (S2-T8)",
       "the original's best nine patterns all end in T")
def _c8(R):
    rows = [r for r in R.get("S2-T8", []) if r.metric(SAMPLE)]
    if len(rows) < len(R.get("S2-T8", [])) or len(rows) < 5:
        raise Missing(f"S2-T8 has {len(rows)} of {len(R.get('S2-T8', []))} cells finished")
    best = sorted(rows, key=lambda r: np.mean(r.metric(SAMPLE)))[:5]
    pats = [format_value("attn", r.settings["attn"]) for r in best]
    v = [number(R, "S2-T8", p, attn=p) for p in pats]
    return v, all(p.endswith("T") for p in pats)


@claim("Receptive field and self-attention",
       "Area 40, 3 layers: a large receptive field alone fails, attention alone fails, both together solve it.",
       "ch 32: ks13/dil 5,7,1 > 50 %, ks7 + attn > 50 %, both < 1 % sample error (R-T1)",
       "original: 92.2 % and 82.0 % for either alone, 0 % for both; 'fails' = most answers wrong, 'solves' as "
       "in claim 2")
def _c9(R):
    base = dict(area=40, ch=32)
    v = [number(R, "R-T1", "ks 13 dil 5,7,1, no attention", ks=13, dil="5,7,1", attn="0,0,0", **base),
         number(R, "R-T1", "ks 7, attention 0,0,T", ks=7, dil=1, attn="0,0,T", **base),
         number(R, "R-T1", "ks 13 dil 5,7,1 + attention", ks=13, dil="5,7,1", attn="0,0,T", **base)]
    return v, v[0].ours > 50 and v[1].ours > 50 and v[2].ours < 1


@claim("Selective copying",
       "12 layers or 6 layers with dilation 1,2,3,4,5,1 solve selective copying; 6 plain layers do not.",
       "mask error: l12 < 0.2 %, l6 dil 1,2,3,4,5,1 < 0.2 %, l6 dil 1 > 20 % (S1-T4; the original's validation "
       "losses are compared for the second verdict)",
       "the write-up gives ≈0.02 % (12 layers) and ≈0.03 % (dilated 6 layers) mask error, ≈47 % for 6 plain "
       "layers; its TensorBoard legend shows 0.195 for 12 layers: 'solves' = below 0.2 %",
       "revised 2026-11-30 after the cpu-scale numbers (at the original budget) were seen: was '< 1 %' (✓ at "
       "0.50 and 0.08 %)")
def _c10(R):
    where = [dict(l=12, dil=1), dict(l=6, ks=9, dil="1,2,3,4,5,1"), dict(l=6, ks=9, dil=1)]
    labels = ["l=12", "l=6 dil 1,2,3,4,5,1", "l=6 dil 1"]
    v = [number(R, "S1-T4", f"{lab} mask", MASK, **w) for lab, w in zip(labels, where)]
    v += [number(R, "S1-T4", f"{lab} loss", LOSS, **w) for lab, w in zip(labels, where)]
    return v, v[0].ours < 0.2 and v[1].ours < 0.2 and v[2].ours > 20


@claim("Self-attention", "Six layers with QK attention in the last layer solve 5 operations.",
       "attn 0,0,0,0,0,T: sample error < 1 % (S2-T10)",
       "the write-up's answer to its open question: the original reaches 0.06 %; 'solves' as in claim 2",
       "added 2026-11-30, before its original-budget run finished")
def _c11(R):
    v = [number(R, "S2-T10", "attn 0,0,0,0,0,T", attn="0,0,0,0,0,T")]
    return v, v[0].ours < 1


def _reproduced(numbers: list[Number]) -> str:
    judged = [n for n in numbers if n.reproduced is not None]
    if not judged:
        return "no original value"
    missed = [n.label for n in judged if not n.reproduced]
    return "✓" if not missed else "✗ (" + ", ".join(missed) + ")"


def check_claims(R: dict) -> list[Claim]:
    """R: experiment name -> table rows (vslm.tables.build_rows)."""
    out = []
    for i, (fields, check) in enumerate(CLAIMS, 1):
        c = Claim(i, **fields)
        try:
            numbers, ok, *extra = check(R)
        except Missing as e:
            c.verdict = f"not evaluable ({e})"
        else:
            c.numbers, c.extra = numbers, (extra[0] if extra else "")
            c.verdict, c.reproduced = ("✓" if ok else "✗"), _reproduced(numbers)
        out.append(c)
    return out
