"""Snakemake job: every table's rows judged once (workflow/verdicts.yaml, the stopping rule of
workflow/plan.yaml) into results/judged.json, which the tables, the summary and the article read."""
from vslm.experiments import read_records
from vslm.judged import judge_all, write_judged
from vslm.logs import logged
from vslm.rundir import results_at

with logged(snakemake.log[0]):
    judged = judge_all(read_records(snakemake.input.experiments), snakemake.input.verdicts, snakemake.input.plan,
                       snakemake.input.wording, results=results_at(snakemake.input.runs))
    write_judged(snakemake.output.judged, judged)
