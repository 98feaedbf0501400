"""Snakemake job: one experiment's table (markdown + csv)."""
from vslm.experiments import load_config
from vslm.tables import write_table

exp = load_config(snakemake.config)[snakemake.wildcards.exp]
write_table(exp, snakemake.output.md, snakemake.output.csv)
