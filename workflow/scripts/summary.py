"""Snakemake job: the article's summary figure (png + svg): every cell with an original value, ours
against the original's, judged by workflow/verdicts.yaml."""
from vslm.experiments import read_records
from vslm.logs import logged
from vslm.summary import summary_figure, summary_points
from vslm.tables import build_tables, shared_judge

with logged(snakemake.log[0]):
    tables = build_tables(read_records(snakemake.input.experiments), snakemake.input.verdicts)
    margin = shared_judge(tables).rules.margin
    summary_figure(summary_points(tables), margin, snakemake.output.png, snakemake.output.svg)
