"""Snakemake job: the article's summary figure (png + svg): every cell with an original value, ours
against the original's, judged by workflow/verdicts.yaml."""
import json

from vslm.experiments import experiment_from_record
from vslm.logs import logged
from vslm.summary import summary_figure, summary_points
from vslm.verdicts import judge_experiments

with logged(snakemake.log[0]):
    records = [json.loads(open(path).read()) for path in snakemake.input.experiments]
    experiments = {r["name"]: experiment_from_record(r) for r in records}
    rows, judge = judge_experiments(experiments, snakemake.input.verdicts)
    summary_figure(summary_points(judge, rows), judge.rules.margin, snakemake.output.png, snakemake.output.svg)
