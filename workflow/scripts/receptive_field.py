"""Snakemake job: the receptive-field diagram."""
from vslm.logs import logged
from vslm.receptive import receptive_field_figure

with logged(snakemake.log[0]):
    receptive_field_figure(snakemake.output[0])
