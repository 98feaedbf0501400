"""The judging job: every row of every table judged once, with every table's runs (a cell's trials
in all tables count, and the noise of our alike cells: workflow/verdicts.yaml), the claims checked
(workflow/plan.yaml's stopping rule included), into one file, results/judged.json. The tables, the
summary figure and the article read their verdicts from it and judge nothing themselves."""
from __future__ import annotations

import math
from pathlib import Path

from .claims import Context, check_claims
from .columns import METRICS, SHORT
from .discussion import discussion
from .files import read_json, write_json
from .findings import claims_glance, claims_table, findings, rule_changes
from .plan_rule import Plan
from .rows import Row, build_rows
from .summary import summary_points
from .tables import Table, row_id
from .trainer_runs import original_runs, trainer_comparison
from .verdicts import Comparison, Judge, Rules, ratio
from .wording import Wording

MAX_JUDGED_BYTES = 20_000_000  # the file is about 0.3 MB at the claims scale


def comparison_record(c: Comparison, judge: Judge) -> dict:
    """One judged metric of a row: ours and the original's (raw), the reading, the interval of the
    factor, the trial counts, the noise the verdict used and the smallest detectable factor."""
    spread, raw = judge.spread(c.ours, c.metric), lambda side: judge.rules.from_z(c.metric, side.mean)
    return {"metric": c.metric, "reading": c.kind, "verdict": c.verdict,
            "ours": raw(c.ours), "original": raw(c.original),
            "factor": math.exp(c.d), "low": math.exp(c.lo), "high": math.exp(c.hi),
            "n": [c.ours.n, c.original.n], "noise": spread.source if spread else "none",
            "noise sd": spread.sd if spread else None, "detectable": c.detectable, "note": c.note}


def row_verdict(judge: Judge, table: Table, row: Row) -> dict:
    """The row's verdict (the worst over its judged columns) with its interval text and records."""
    verdict, found = judge.row(row.settings, [METRICS[c][0] for c in table.judged])
    interval = "; ".join(f"{SHORT[c.metric]} {c.factor} (n {c.ours.n}/{c.original.n}"
                         + (f"; ×{ratio(c.detectable)})" if math.isfinite(c.detectable) else ")") for c in found)
    return {"verdict": verdict or "", "interval": interval, "metrics": [comparison_record(c, judge) for c in found]}


def judge_tables(experiments: dict, rows_by_exp: dict, rules: Rules) -> tuple[Judge, dict[str, Table]]:
    """The judge over every table's rows, and each table with its rows' verdicts."""
    judge = Judge(rules, experiments, rows_by_exp)
    tables = {}
    for name, e in experiments.items():
        table = Table(e, rows_by_exp[name])
        table.verdicts = {row_id(r): row_verdict(judge, table, r) for r in table.rows
                          if r.settings["samples"] >= r.cell.original_samples}
        tables[name] = table
    return judge, tables


def judge_all(experiments: dict, verdicts_path: Path, plan_path: Path, wording_path: Path,
              root: Path = Path("."), results: dict | None = None) -> dict:
    """What results/judged.json holds: per table, per row id, the verdict; the noise pools; the summary
    figure's points; and the article's judged parts (markdown). The runs' results: `results` (as
    `build_rows` takes them) or else those under `root`."""
    rows = {name: build_rows(e, root, results) for name, e in experiments.items()}
    judge, tables = judge_tables(experiments, rows, Rules.load(verdicts_path))
    plan, say = Plan.load(plan_path), Wording(wording_path)
    claims = check_claims(Context(rows, judge, plan))
    here = trainer_comparison(original_runs(root), judge, rows)
    sections = {}
    for c in claims:
        sections.setdefault(c.section, []).append(c)
    return {
        "rows": {name: t.verdicts for name, t in tables.items()},
        "noise": [{"task": task, "metric": metric, "regime": regime or "all", "sd": sd, "df": df}
                  for (task, metric, regime), (sd, df) in sorted(judge.pools.items(), key=str)],
        "margin": judge.rules.margin,
        "points": summary_points(judge, rows),
        "claims": [{"number": c.number, "verdict": c.verdict, "old rule": c.old_verdict} for c in claims],
        "markdown": {
            "findings": "\n".join(findings(claims, judge, rows, plan, here)),
            "glance": "\n".join(claims_glance(claims, say)),
            "sections": {s: "\n".join(claims_table(cs)) for s, cs in sections.items()},
            "discussion": "\n".join(discussion(claims, judge, rows, plan, say, here, root)
                                    + rule_changes(claims, judge.rules.history)),
        },
    }


def finite(obj):
    """`obj` with every inf and nan as None (null): JSON has neither; an unbounded interval end reads null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def write_judged(path: Path, judged: dict) -> None:
    write_json(Path(path), finite(judged))


def read_judged(path: Path) -> dict:
    return read_json(Path(path), MAX_JUDGED_BYTES)
