"""Snakemake job: the article's summary figure (png + svg): every cell with an original value, ours
against the original's, coloured by the verdict the judging job found (results/judged.json)."""
from vslm.judged import read_judged
from vslm.logs import logged
from vslm.summary import summary_figure

with logged(snakemake.log[0]):
    judged = read_judged(snakemake.input.judged)
    summary_figure(judged["points"], judged["margin"], snakemake.output.png, snakemake.output.svg)
