"""Snakemake job: the article (markdown + self-contained html) from the spec files, tables, plots,
runs and the judging job's file (results/judged.json)."""
from vslm.article import write_article
from vslm.experiments import read_records
from vslm.files import read_json
from vslm.logs import logged
from vslm.rundir import results_at

with logged(snakemake.log[0]):
    experiments = read_records(snakemake.input.experiments)
    article = read_json(snakemake.input.spec)
    write_article(experiments, article["scale"], article["note"], snakemake.output.md, snakemake.output.html,
                  snakemake.input.sections, snakemake.input.wording,
                  snakemake.input.judged, dict(zip(experiments, snakemake.input.tables)),
                  dict(zip(experiments, snakemake.input.plots)), snakemake.input.receptive_field,
                  snakemake.input.summary, results_at(snakemake.input.runs))
