"""Snakemake job: one experiment's table (markdown + csv) from its spec file and runs."""
import json

from vslm.experiments import experiment_from_record
from vslm.logs import logged
from vslm.tables import write_table

with logged(snakemake.log[0]):
    exp = experiment_from_record(json.loads(open(snakemake.input.spec).read()))
    write_table(exp, snakemake.output.md, snakemake.output.csv)
