"""Snakemake job: one experiment's table (markdown + csv) from its spec file and runs, with its rows'
verdicts as the judging job found them (results/judged.json)."""
from vslm.experiments import read_records
from vslm.judged import read_judged
from vslm.logs import logged
from vslm.rows import build_rows
from vslm.rundir import results_at
from vslm.tables import Table

with logged(snakemake.log[0]):
    (exp,) = read_records([snakemake.input.spec]).values()
    verdicts = read_judged(snakemake.input.judged)["rows"][exp.name]
    rows = build_rows(exp, results=results_at(snakemake.input.runs))
    Table(exp, rows, verdicts).write(snakemake.output.md, snakemake.output.csv)
