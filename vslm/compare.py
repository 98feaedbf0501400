"""Ours against the original: when does one of our numbers reproduce the original's?"""
from __future__ import annotations

import math

TOLERANCE = ("an original value without trials is reproduced when ours is within 1 percentage point of "
             "it or within a factor 2 of its odds (error / (100 - error), errors clipped to 0.01-99.99 %), "
             "a validation loss when within a factor 2; an original with trials when our mean lies inside "
             "its trials' range")
ROW_RULE = ("a table row is reproduced when each error rate the original reports for it (sample and mask "
            "error) is, else its validation loss; revised 2026-11-30 after the cpu-scale verdicts were seen: "
            "rows were judged on the first of sample error, mask error and loss alone, and a sample error "
            "at 100 % let a model at chance pass beside an original that had learned part of the answers "
            "(S2-T4's Mamba)")


def _odds(p: float) -> float:
    p = min(max(p, 0.01), 99.99)
    return p / (100 - p)


def reproduces(ours: float, original: float, original_range: tuple | None = None,
               percent: bool = True) -> bool | None:
    """None when there is nothing to compare with (`TOLERANCE` states the rule)."""
    if original_range:
        return original_range[0] <= ours <= original_range[1]
    if original is None or math.isnan(original) or math.isnan(ours):
        return None
    if not percent:
        lo, hi = sorted((max(ours, 1e-12), max(original, 1e-12)))
        return hi / lo <= 2
    return abs(ours - original) <= 1.0 or abs(math.log(_odds(ours) / _odds(original))) <= math.log(2)
