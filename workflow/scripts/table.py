"""Snakemake job: one experiment's table (markdown + csv), its rows judged with every experiment's
runs (a cell's trials in other tables and the pooled noise model count: workflow/verdicts.yaml)."""
from vslm.experiments import read_records
from vslm.logs import logged
from vslm.tables import build_tables

with logged(snakemake.log[0]):
    tables = build_tables(read_records(snakemake.input.experiments), snakemake.input.verdicts)
    tables[snakemake.wildcards.exp].write(snakemake.output.md, snakemake.output.csv)
