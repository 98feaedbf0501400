"""Snakemake job: one experiment's table (markdown + csv), its rows judged with every experiment's
runs (a cell's trials in other tables and the pooled noise model count: workflow/verdicts.yaml)."""
import json

from vslm.experiments import experiment_from_record
from vslm.logs import logged
from vslm.tables import write_table
from vslm.verdicts import judge_experiments

with logged(snakemake.log[0]):
    records = [json.loads(open(path).read()) for path in snakemake.input.experiments]
    experiments = {r["name"]: experiment_from_record(r) for r in records}
    rows, judge = judge_experiments(experiments, snakemake.input.verdicts)
    name = snakemake.wildcards.exp
    write_table(experiments[name], rows[name], judge, snakemake.output.md, snakemake.output.csv)
