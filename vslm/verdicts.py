"""Judgement with uncertainty, by the rules of workflow/verdicts.yaml: error rates on the logit
scale and losses on the log scale; the trial-to-trial spread from our own trials only (a cell's own
once it has enough, else the pool of alike cells of its task); every cell judged once from all its
trials in every table. Against a one-run original a row is consistent when the original's value is a
plausible single trial of ours (prediction interval); against an original mean of several trials it
reproduces when the interval of the difference lies inside the margin (equivalence). A bimodal cell
is read by the count of its trials that solve the task (Wilson interval)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from .columns import METRICS
from .files import read_text
from .settings import COMMON_DEFAULTS, run_key

LOSS, SAMPLE = "validation_loss", "validation_sample_error%"
REPRODUCED, NOT_REPRODUCED, UNDECIDED = "reproduced", "not reproduced", "undecided"
CONSISTENT, INCONSISTENT = "consistent", "inconsistent"
HOLDS, FAILS = "holds", "fails"
ROW_VERDICTS = (CONSISTENT, INCONSISTENT, REPRODUCED, NOT_REPRODUCED, UNDECIDED)
WORST = {NOT_REPRODUCED: 2, INCONSISTENT: 2, UNDECIDED: 1, REPRODUCED: 0, CONSISTENT: 0}  # a row: worst metric


@dataclass(frozen=True)
class Rules:
    level: float
    margin: float
    clip: float
    regimes: dict
    min_df: int
    own_sd: int  # a cell with at least this many trials uses its own sd
    bimodal_sds: float  # a trial this many pooled sds from its cell's mean makes the cell bimodal
    solved: float  # a sample error (%) below which a trial solves the task
    failed: float  # a sample error (%) from which a trial is far from solving it
    history: list
    text: dict  # the whole file, for the article

    @classmethod
    def load(cls, path: Path) -> Rules:
        raw = yaml.safe_load(read_text(path, 1_000_000))
        noise = raw["noise"]
        return cls(float(raw["level"]), float(raw["margin"]["value"]), float(raw["scale"]["error"]["clip"]),
                   noise["regimes"], int(noise["min_df"]), int(noise["own_sd_from"]),
                   float(raw["bimodal"]["sds"]), float(raw["bimodal"]["solved_below"]),
                   float(raw["bimodal"]["failed_from"]), raw.get("history") or [], raw)

    def t(self, df: float, level: float | None = None) -> float:
        """The two-sided quantile of `level` (the rules' level by default)."""
        level = self.level if level is None else level
        return float(stats.t.ppf(1 - (1 - level) / 2, max(df, 1)))

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


FAITHFUL = COMMON_DEFAULTS["precision"]  # the verdicts and the noise rest on runs at the original's arithmetic

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


def wilson(k: int, n: int, level: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n at a two-sided `level`."""
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    p, zz = k / n, z * z / n
    centre, half = (p + zz / 2) / (1 + zz), z * math.sqrt(p * (1 - p) / n + zz / (4 * n)) / (1 + zz)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Side:
    """One side's trials of a cell for one metric, on the transformed scale."""
    mean: float
    n: int
    sd: float | None = None  # the trials' own spread (n >= 2)
    censored: bool = False
    raw: list = field(default_factory=list)  # our trials (raw), or the original's reported value(s)
    task: str = ""


@dataclass
class Spread:
    """The sd a cell is judged with, its degrees of freedom and where it comes from."""
    sd: float
    df: float
    source: str  # "own" (the cell's trials) or "pool" (alike cells of its task)


@dataclass
class Estimate:
    """A cell's mean with its interval: `value` is the back-transformed mean of the transformed
    trials (the interval's centre), `lo`-`hi` its interval (raw), n trials."""
    metric: str
    value: float
    lo: float
    hi: float
    n: int
    z: float
    se: float
    df: float
    source: str = "pool"


@dataclass
class Comparison:
    """Ours against the original for one cell and metric. `kind` is the reading: 'prediction'
    (a one-run original against our prediction interval for one new trial), 'equivalence' (an
    original mean of several trials) or 'solved count' (a bimodal cell)."""
    metric: str
    ours: Side
    original: Side
    d: float  # mean_z(ours) - mean_z(original)
    lo: float
    hi: float
    verdict: str
    kind: str
    detectable: float  # the smallest factor (odds or loss) between the two its design could show
    note: str = ""

    @property
    def factor(self) -> str:
        """Ours over the original's as a factor of the odds (errors) or of the loss, with the interval
        the verdict reads."""
        if self.kind == "solved count":
            return self.note
        return f"×{ratio(math.exp(self.d))} [{ratio(math.exp(self.lo))}, {ratio(math.exp(self.hi))}]"


def ratio(v: float) -> str:
    """A factor without an exponent: 2 significant figures from 0.01 to 100 (3 where 2 would read
    as 1 for a factor that is not), whole numbers above, 1/N below."""
    if not math.isfinite(v) or v <= 0:
        return "?" if not math.isfinite(v) else "0"
    if v >= 100:
        return f"{v:,.0f}"
    if v < 0.01:
        return f"1/{1 / v:,.0f}"
    return f"{v:.3g}" if f"{v:.2g}" == "1" and abs(v - 1) >= 0.005 else f"{v:.2g}"


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
        tasks: dict[str, str] = {}
        for name, rows in rows_by_exp.items():
            exp = experiments[name]
            for row in rows:
                if row.settings.get("precision", FAITHFUL) != FAITHFUL:  # another platform's arithmetic (the tf32 arm)
                    continue
                ident = identity(row.settings)
                tasks[ident] = row.settings["task"]
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
                                              at_clip, raw, tasks[ident])
        for (ident, metric), found in summaries.items():
            found = sorted(found.values(), key=lambda s: (s[0], s[1] or 0, s[2]))
            n = sum(m for _, _, m in found)
            mean = sum(m * float(self.rules.to_z(metric, [v])[0]) for v, _, m in found) / n
            sds = [(self.rules.sd_to_z(metric, v, sd), m) for v, sd, m in found if sd and m > 1]
            sd = math.sqrt(sum((m - 1) * s * s for s, m in sds) / sum(m - 1 for _, m in sds)) if sds else None
            self.original[(ident, metric)] = Side(mean, n, sd, any(sd == 0 for _, sd, _ in found if sd is not None),
                                                  [v for v, _, _ in found], tasks[ident])

    def _pool(self) -> dict:
        """(task, metric, regime) and (task, metric, None) -> (sd, df) over our cells with >= 2 trials."""
        acc: dict[tuple, list] = {}
        for (_, metric), side in self.ours.items():
            if side.sd is None or (side.censored and self.rules.text["noise"]["skip_censored"]):
                continue
            regime = self.rules.regime(metric, self.rules.from_z(metric, side.mean))
            for k in ((side.task, metric, regime), (side.task, metric, None)):
                acc.setdefault(k, []).append((side.n - 1, side.sd))
        return {k: (math.sqrt(sum(df * s * s for df, s in v) / sum(df for df, _ in v)), sum(df for df, _ in v))
                for k, v in acc.items()}

    def noise(self, task: str, metric: str, value: float) -> tuple[float, float] | None:
        """The pooled sd and its degrees of freedom for a cell of this task, metric and mean (raw)."""
        own = self.pools.get((task, metric, self.rules.regime(metric, value)))
        if own and own[1] >= self.rules.min_df:
            return own
        return self.pools.get((task, metric, None))

    def spread(self, side: Side, metric: str) -> Spread | None:
        """The cell's own sd once it has enough trials (and some spread), else its pool's."""
        if side.n >= self.rules.own_sd and side.sd and not side.censored:
            return Spread(side.sd, side.n - 1, "own")
        found = self.noise(side.task, metric, self.rules.from_z(metric, side.mean))
        return Spread(found[0], found[1], "pool") if found else None

    def bimodal(self, side: Side, metric: str) -> bool:
        """A sample-error cell with a trial more than the rules' number of pooled sds from its mean,
        some trials solving the task and some far from it."""
        straddles = min(side.raw) < self.rules.solved <= self.rules.failed <= max(side.raw)
        if metric != SAMPLE or side.n < 3 or not straddles:
            return False
        pooled = self.noise(side.task, metric, self.rules.from_z(metric, side.mean))
        z = self.rules.to_z(metric, side.raw)
        return bool(pooled and np.max(np.abs(z - side.mean)) > self.rules.bimodal_sds * pooled[0])

    # ------------------------------------------------------------ verdicts
    def estimate(self, settings: dict, metric: str) -> Estimate | None:
        side = self.ours.get((identity(settings), metric))
        if side is None:
            return None
        s = self.spread(side, metric) or Spread(math.nan, 1, "none")
        se = s.sd / math.sqrt(side.n)
        half = self.rules.t(s.df) * se
        f = lambda z: self.rules.from_z(metric, z)  # noqa: E731
        return Estimate(metric, f(side.mean), f(side.mean - half), f(side.mean + half), side.n, side.mean, se, s.df,
                        s.source)

    def compare(self, settings: dict, metric: str) -> Comparison | None:
        key = (identity(settings), metric)
        ours, orig = self.ours.get(key), self.original.get(key)
        if ours is None or orig is None:
            return None
        d = ours.mean - orig.mean
        if self.bimodal(ours, metric):
            return self._solved_count(metric, ours, orig, d)
        s = self.spread(ours, metric)
        if s is None:
            return Comparison(metric, ours, orig, d, -math.inf, math.inf, UNDECIDED, "none", math.inf)
        if orig.n == 1:  # is the original a plausible single trial of ours?
            half = self.rules.t(s.df) * s.sd * math.sqrt(1 + 1 / ours.n)
            verdict = CONSISTENT if abs(d) <= half else INCONSISTENT
            return Comparison(metric, ours, orig, d, d - half, d + half, verdict, "prediction", math.exp(half))
        var_o = (orig.sd if orig.sd else s.sd) ** 2 / orig.n  # the original's own spread for its side
        var_ours = s.sd ** 2 / ours.n
        df_o = orig.n - 1 if orig.sd else s.df
        df = (var_ours + var_o) ** 2 / (var_ours ** 2 / s.df + var_o ** 2 / df_o)  # Welch-Satterthwaite
        half = self.rules.t(df) * math.sqrt(var_ours + var_o)
        return Comparison(metric, ours, orig, d, d - half, d + half, self.equivalence(d - half, d + half),
                          "equivalence", math.exp(half + self.rules.margin))

    def _solved_count(self, metric: str, ours: Side, orig: Side, d: float) -> Comparison:
        """A bimodal cell: how many of our trials solve the task, and whether the original's outcome
        is a plausible draw of that proportion (one run), or its proportion lies in our interval."""
        k = sum(v < self.rules.solved for v in ours.raw)
        lo, hi = wilson(k, ours.n, self.rules.level)
        note = f"solved in {k} of {ours.n} [{lo:.0%}, {hi:.0%}]"
        if orig.n == 1:
            solved = orig.raw[0] < self.rules.solved
            p_hi = hi if solved else 1 - lo  # the largest plausible chance of the original's outcome
            verdict = CONSISTENT if p_hi >= 1 - self.rules.level else INCONSISTENT
        else:
            verdict = UNDECIDED  # its reported mean hides how many of its trials solved it
        return Comparison(metric, ours, orig, d, -math.inf, math.inf, verdict, "solved count", math.inf,
                          note + f", original {'solved' if orig.raw[0] < self.rules.solved else 'not solved'}"
                          + ("" if orig.n == 1 else f" on average over {orig.n}"))

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
