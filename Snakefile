# vslm pipeline: config -> cells -> runs -> metrics -> tables/plots -> article.
# Run:  snakemake --cores all --resources gpu=1
include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "report/article.md",
        "report/article.html",
