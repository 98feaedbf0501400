"""Snakemake job: the receptive-field diagram."""
from vslm.receptive import receptive_field_figure

receptive_field_figure(snakemake.output[0])
