"""Snakemake job: the article (markdown + self-contained html)."""
from vslm.article import write_article
from vslm.experiments import load_config

write_article(load_config(snakemake.config), snakemake.config, snakemake.output.md, snakemake.output.html,
              snakemake.input.sections)
