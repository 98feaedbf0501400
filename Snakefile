# vslm pipeline: config -> cells -> runs -> metrics -> tables/plots -> article.
# Run:  snakemake --cores all --resources gpu=1
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "report/article.md",
        "report/article.html",
        # Every run as a direct input: Snakemake (9.27) does not rerun a job with existing
        # outputs for a missing input alone, so a new cell or trial would otherwise be skipped.
        expand("results/runs/{key}/metrics.json", key=RUNS),
