"""Snakemake job: one experiment's error curves (png + svg) from its spec file and runs."""
import json

from vslm.experiments import experiment_from_record
from vslm.logs import logged
from vslm.plots import plot_experiment

with logged(snakemake.log[0]):
    exp = experiment_from_record(json.loads(open(snakemake.input.spec).read()))
    plot_experiment(exp, snakemake.output.png, snakemake.output.svg)
