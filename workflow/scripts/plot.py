"""Snakemake job: one experiment's error curves (png + svg)."""
from vslm.experiments import load_config
from vslm.plots import plot_experiment

exp = load_config(snakemake.config)[snakemake.wildcards.exp]
plot_experiment(exp, snakemake.output.png, snakemake.output.svg)
