"""Snakemake job: one experiment's curves (png + svg) from its spec file and runs, with the
original's final values from its reference table."""
from pathlib import Path

from vslm.experiments import read_records
from vslm.logs import logged
from vslm.plots import plot_experiment
from vslm.rows import build_rows
from vslm.rundir import results_at
from vslm.tables import Table

with logged(snakemake.log[0]):
    (exp,) = read_records([snakemake.input.spec]).values()
    rows = build_rows(exp, results=results_at(snakemake.input.runs))
    curves = {Path(p).parent.name: p for p in snakemake.input.curves}
    plot_experiment(Table(exp, rows), snakemake.output.png, snakemake.output.svg, curve_files=curves)
