"""The stopping rule of workflow/plan.yaml: a claim condition that compares cells is judged at its
looks on each compared cell's own trials (the first n seeds at look n), so runs of other cells
cannot move it; a look holds when every pair's interval lies beyond the contrast factor, fails when
one lies wholly short of it, and an undecided look adds trials up to the next."""
from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy import stats
from scipy.optimize import brentq

from .files import read_text
from .verdicts import FAILS, HOLDS, UNDECIDED, Rules, ratio


@dataclass(frozen=True)
class Plan:
    alpha: float
    level: float
    conditions: dict  # claim number -> its condition (table, metric, cells, contrast, looks)
    tests: dict
    history: list
    committed: str | None  # when the file was first committed (git), None outside a git checkout

    @classmethod
    def load(cls, path: Path) -> Plan:
        raw = yaml.safe_load(read_text(path, 1_000_000))
        looks = raw["looks"]
        return cls(float(looks["alpha"]), float(looks["level"]), {int(k): v for k, v in raw["conditions"].items()},
                   raw.get("tests") or {}, raw.get("history") or [], first_commit(path))


def first_commit(path: Path) -> str | None:
    """The committer time (ISO 8601) of the commit that added `path`."""
    path = Path(path).resolve()
    try:
        out = subprocess.run(["git", "log", "--diff-filter=A", "--follow", "--format=%cI", "--", path.name],
                             cwd=path.parent, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.split()
    return lines[-1] if out.returncode == 0 and lines else None


def pocock_alpha(looks: int, overall: float = 0.05) -> float:
    """The constant one-sided level per look whose chance of a false 'holds' over `looks` equally
    spaced looks is `overall`, from the multivariate normal of the look statistics (information
    fractions k / looks)."""
    k = np.arange(1, looks + 1)
    cov = np.sqrt(np.minimum.outer(k, k) / np.maximum.outer(k, k))
    mvn = stats.multivariate_normal(mean=np.zeros(looks), cov=cov)

    def overall_at(c: float) -> float:
        return 1 - mvn.cdf(np.full(looks, c))

    c = brentq(lambda c: overall_at(c) - overall, 1.0, 4.0, xtol=1e-6)
    return float(1 - stats.norm.cdf(c))


@dataclass
class Pair:
    """A worse cell's odds (or loss) over a better one's at a look, with the look's interval."""
    worse: str
    better: str
    ratio: float
    lo: float
    hi: float

    def __str__(self) -> str:
        return f"{self.worse}/{self.better} ×{ratio(self.ratio)} [{ratio(self.lo)}, {ratio(self.hi)}]"


@dataclass
class Look:
    """A condition's verdict under the plan: the look it stands at and what it shows."""
    state: str  # holds, fails or undecided
    look: int  # 1-based; 0 where look 1 is not reached
    n: int  # the trials per cell the look reads
    pairs: list
    text: str


def trials_by_seed(rows: list, metric: str) -> dict[int, float]:
    """The finished trials of `metric` of a cell's rows (its rows in one or several tables), by seed."""
    out = {}
    for row in rows:
        seed_of = {run.key: run.settings["seed"] for run in row.cell.runs}
        out.update(zip((seed_of[k] for k in row.done_keys), row.metric(metric)))
    return out


def judge_condition(cond: dict, rows: dict, rules: Rules, level: float) -> Look:
    """`rows` maps each of the condition's cell names to its rows (a cell's rows in every table)."""
    by_seed = {name: trials_by_seed(r, cond["metric"]) for name, r in rows.items()}
    looks, factor = cond["looks"], float(cond["contrast"]["factor"])
    reached = [n for n in looks if all(sum(s <= n for s in t) >= n for t in by_seed.values())]
    if not reached:
        short = ", ".join(f"{name} {len(t)}" for name, t in by_seed.items() if len(t) < looks[0])
        return Look(UNDECIDED, 0, 0, [], f"look 1 (n {looks[0]}) not reached: trials so far {short}")
    n = reached[-1]
    k = looks.index(n) + 1
    z = {name: rules.to_z(cond["metric"], [v for s, v in sorted(t.items()) if s <= n]) for name, t in by_seed.items()}
    pairs = []
    for w in cond["contrast"]["worse"]:
        for b in cond["contrast"]["better"]:
            d, (vw, vb) = z[w].mean() - z[b].mean(), (z[w].var(ddof=1) / n, z[b].var(ddof=1) / n)
            se = math.sqrt(vw + vb) or 1e-12
            df = (vw + vb) ** 2 / ((vw ** 2 + vb ** 2) / (n - 1)) if vw + vb > 0 else n - 1
            half = rules.t(df, level) * se
            pairs.append(Pair(w, b, math.exp(d), math.exp(d - half), math.exp(d + half)))
    state = HOLDS if all(p.lo > factor for p in pairs) else FAILS if any(p.hi < factor for p in pairs) else UNDECIDED
    last = k == len(looks)
    where = (f"decided at look {k} (n {n})" if state != UNDECIDED else
             f"undecided at n max {n}" if last else f"undecided at look {k} (n {n}); trials go on to {looks[k]}")
    text = (f"{where}: each worse cell's {'odds' if cond['metric'] != 'validation_loss' else 'loss'} over each "
            f"better one's above ×{factor:g} ({level:.0%} intervals): " + "; ".join(map(str, pairs)))
    return Look(state, k, n, pairs, text)
