"""Snakemake job: one experiment's curves (png + svg) from its spec file and runs, with the
original's final values from its reference table."""
from vslm.experiments import read_records
from vslm.logs import logged
from vslm.plots import plot_experiment
from vslm.rows import build_rows
from vslm.tables import Table

with logged(snakemake.log[0]):
    (exp,) = read_records([snakemake.input.spec]).values()
    plot_experiment(Table(exp, build_rows(exp)), snakemake.output.png, snakemake.output.svg)
