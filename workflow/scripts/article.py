"""Snakemake job: the article (markdown + self-contained html) from the spec files, tables and runs."""
import json

from vslm.article import write_article
from vslm.experiments import experiment_from_record
from vslm.logs import logged

with logged(snakemake.log[0]):
    records = [json.loads(open(path).read()) for path in snakemake.input.experiments]
    experiments = {r["name"]: experiment_from_record(r) for r in records}
    article = json.loads(open(snakemake.input.spec).read())
    write_article(experiments, article["scale"], article["note"], snakemake.output.md, snakemake.output.html,
                  snakemake.input.sections, snakemake.input.verdicts, dict(zip(experiments, snakemake.input.tables)),
                  dict(zip(experiments, snakemake.input.plots)), snakemake.input.receptive_field,
                  snakemake.input.summary)
