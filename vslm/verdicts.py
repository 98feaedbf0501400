"""Judgement with uncertainty, by the rules of workflow/verdicts.yaml: error rates on the logit
scale and losses on the log scale; the trial-to-trial spread pooled over alike cells (ours and the
original's); every cell judged once from all its trials in every table; a row reproduces the
original when the interval of the difference lies inside the margin; a claim's conditions hold,
fail or stay undecided on intervals of our cell means."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from .columns import METRICS
from .files import read_text
from .settings import run_key

LOSS = "validation_loss"
REPRODUCED, NOT_REPRODUCED, UNDECIDED = "reproduced", "not reproduced", "undecided"
HOLDS, FAILS = "holds", "fails"
WORST = {NOT_REPRODUCED: 2, UNDECIDED: 1, REPRODUCED: 0}  # a row takes the worst of its metrics


@dataclass(frozen=True)
class Rules:
    level: float
    margin: float
    clip: float
    regimes: dict
    min_df: int
    skip_censored: bool
    history: list
    text: dict  # the whole file, for the article

    @classmethod
    def load(cls, path: Path) -> Rules:
        raw = yaml.safe_load(read_text(path, 1_000_000))
        noise = raw["noise"]
        return cls(float(raw["level"]), float(raw["margin"]["value"]), float(raw["scale"]["error"]["clip"]),
                   noise["regimes"], int(noise["min_df"]), bool(noise["skip_censored"]), raw.get("history") or [],
                   raw)

    def t(self, df: float) -> float:
        """The two-sided quantile of the rules' level."""
        return float(stats.t.ppf(1 - (1 - self.level) / 2, max(df, 1)))

    def to_z(self, metric: str, values) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        if metric == LOSS:
            return np.log(np.maximum(v, 1e-12))
        p = np.clip(v / 100, self.clip, 1 - self.clip)
        return np.log(p / (1 - p))

    def from_z(self, metric: str, z: float) -> float:
        return math.exp(z) if metric == LOSS else 100 / (1 + math.exp(-z))

    def sd_to_z(self, metric: str, mean: float, sd: float) -> float:
        """An sd of raw trials moved to the transformed scale at their mean (delta method)."""
        if metric == LOSS:
            return sd / max(mean, 1e-12)
        p = min(max(mean / 100, self.clip), 1 - self.clip)
        return (sd / 100) / (p * (1 - p))

    def regime(self, metric: str, mean: float) -> str:
        if metric == LOSS:
            return "loss"
        return next(name for name, (lo, hi) in self.regimes.items() if mean <= hi or hi >= 100)


def identity(settings: dict) -> str:
    """A cell as itself, whichever table and trial: its run key with the seed left out."""
    return run_key(dict(settings, seed=0))


def distinct_cells(rows_by_exp: dict):
    """(table, row) for the first row of each distinct cell over all tables (a cell shown in
    several tables is judged once)."""
    seen = set()
    for name, rows in rows_by_exp.items():
        for row in rows:
            ident = identity(row.settings)
            if ident not in seen:
                seen.add(ident)
                yield name, row


@dataclass
class Side:
    """One side's trials of a cell for one metric, on the transformed scale."""
    mean: float
    n: int
    sd: float | None = None  # the trials' own spread (n >= 2), for the noise pool
    censored: bool = False
    raw: list = field(default_factory=list)  # our trials (raw), or the original's reported value


@dataclass
class Estimate:
    """A cell's mean with its interval: raw `value`, interval `lo`-`hi` (raw), n trials."""
    metric: str
    value: float
    lo: float
    hi: float
    n: int
    z: float
    se: float
    df: float


@dataclass
class Comparison:
    """Ours against the original for one cell and metric."""
    metric: str
    ours: Side
    original: Side
    d: float  # mean_z(ours) - mean_z(original)
    lo: float
    hi: float
    verdict: str

    @property
    def factor(self) -> str:
        """The interval as a factor of the odds (errors) or of the loss, ours over the original's."""
        return f"×{math.exp(self.d):.2g} ({math.exp(self.lo):.2g}-{math.exp(self.hi):.2g})"


class Judge:
    """The noise model and the verdicts over all rows of all experiments."""

    def __init__(self, rules: Rules, experiments: dict, rows_by_exp: dict):
        self.rules = rules
        self.ours: dict[tuple, Side] = {}
        self.original: dict[tuple, Side] = {}
        self._collect(experiments, rows_by_exp)
        self.pools = self._pool()

    # ------------------------------------------------------------ data
    def _collect(self, experiments: dict, rows_by_exp: dict) -> None:
        values: dict[tuple, dict] = {}  # (identity, metric) -> run key -> raw value
        summaries: dict[tuple, dict] = {}  # (identity, metric) -> the original's distinct (mean, sd, n)
        for name, rows in rows_by_exp.items():
            exp = experiments[name]
            for row in rows:
                ident = identity(row.settings)
                for col, vals in row.values.items():
                    metric = _metric(col)
                    if metric is None:
                        continue
                    for key, v in zip(row.done_keys, vals):
                        values.setdefault((ident, metric), {})[key] = v
                    if exp.spec.get("per_trial"):
                        continue  # its original values are the trials of another table's row
                    orig = row.original.get(col, math.nan)
                    if not math.isnan(orig):
                        sd = row.original_std.get(col)
                        # equal to 4 digits: the same runs, reprinted (and rounded) by another table
                        same = (f"{orig:.4g}", f"{sd:.3g}" if sd else None, exp.original_trials)
                        summaries.setdefault((ident, metric), {}).setdefault(same, (orig, sd, exp.original_trials))
        for (ident, metric), by_key in values.items():
            raw = list(by_key.values())
            z = self.rules.to_z(metric, raw)
            at_clip = bool(np.all(np.abs(z) >= abs(self.rules.to_z(metric, [0.0])[0]) - 1e-9)) and metric != LOSS
            self.ours[(ident, metric)] = Side(float(z.mean()), len(z), float(z.std(ddof=1)) if len(z) > 1 else None,
                                              at_clip, raw)
        for (ident, metric), found in summaries.items():
            found = sorted(found.values(), key=lambda s: (s[0], s[1] or 0, s[2]))
            n = sum(m for _, _, m in found)
            mean = sum(m * float(self.rules.to_z(metric, [v])[0]) for v, _, m in found) / n
            sds = [(self.rules.sd_to_z(metric, v, sd), m) for v, sd, m in found if sd and m > 1]
            sd = math.sqrt(sum((m - 1) * s * s for s, m in sds) / sum(m - 1 for _, m in sds)) if sds else None
            self.original[(ident, metric)] = Side(mean, n, sd, any(sd == 0 for _, sd, _ in found if sd is not None),
                                                  [v for v, _, _ in found])

    def _pool(self) -> dict:
        """(metric, regime) and (metric, None) -> (sd, df) over every cell side with >= 2 trials."""
        acc: dict[tuple, list] = {}
        for sides in (self.ours, self.original):
            for (_, metric), side in sides.items():
                if side.sd is None or side.n < 2 or (side.censored and self.rules.skip_censored):
                    continue
                regime = self.rules.regime(metric, self.rules.from_z(metric, side.mean))
                for k in ((metric, regime), (metric, None)):
                    acc.setdefault(k, []).append((side.n - 1, side.sd))
        return {k: (math.sqrt(sum(df * s * s for df, s in v) / sum(df for df, _ in v)), sum(df for df, _ in v))
                for k, v in acc.items()}

    def noise(self, metric: str, value: float) -> tuple[float, float] | None:
        """The pooled sd and its degrees of freedom for a cell of this metric and mean (raw)."""
        own = self.pools.get((metric, self.rules.regime(metric, value)))
        if own and own[1] >= self.rules.min_df:
            return own
        return self.pools.get((metric, None))

    # ------------------------------------------------------------ verdicts
    def estimate(self, settings: dict, metric: str) -> Estimate | None:
        side = self.ours.get((identity(settings), metric))
        if side is None:
            return None
        sd, df = self.noise(metric, self.rules.from_z(metric, side.mean)) or (math.nan, 1)
        se = sd / math.sqrt(side.n)
        half = self.rules.t(df) * se
        f = lambda z: self.rules.from_z(metric, z)  # noqa: E731
        return Estimate(metric, float(np.mean(side.raw)), f(side.mean - half), f(side.mean + half), side.n,
                        side.mean, se, df)

    def compare(self, settings: dict, metric: str) -> Comparison | None:
        key = (identity(settings), metric)
        ours, orig = self.ours.get(key), self.original.get(key)
        if ours is None or orig is None:
            return None
        sd, df = self.noise(metric, self.rules.from_z(metric, (ours.mean + orig.mean) / 2)) or (math.nan, 1)
        d = ours.mean - orig.mean
        half = self.rules.t(df) * sd * math.sqrt(1 / ours.n + 1 / orig.n)
        return Comparison(metric, ours, orig, d, d - half, d + half, self.equivalence(d - half, d + half))

    def equivalence(self, lo: float, hi: float) -> str:
        m = self.rules.margin
        if -m < lo and hi < m:
            return REPRODUCED
        if lo > m or hi < -m:
            return NOT_REPRODUCED
        return UNDECIDED

    def row(self, settings: dict, metrics: list[str]) -> tuple[str | None, list[Comparison]]:
        """The row's verdict (the worst over its judged metrics) and the comparisons behind it."""
        found = [c for m in metrics if (c := self.compare(settings, m))]
        if not found:
            return None, []
        return max((c.verdict for c in found), key=WORST.get), found

    def power(self, se: float) -> float:
        """The chance that the equivalence test finds equivalence when the true difference is 0
        (normal approximation)."""
        reach = self.rules.margin - stats.norm.ppf(1 - (1 - self.rules.level) / 2) * se
        return max(0.0, 2 * stats.norm.cdf(reach / se) - 1) if se > 0 else 1.0


def _metric(col: str) -> str | None:
    """The metrics.json key of a judged table column (errors and loss), else None."""
    key = METRICS.get(col, (None,))[0]
    return key if key in ("validation_loss", "validation_mask_error%", "validation_sample_error%",
                          "train_sample_error%") else None
