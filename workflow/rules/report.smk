# Metrics -> tables and plots per experiment -> the article.


rule table:
    input:
        lambda wc: run_files(wc.exp),
    output:
        md="results/tables/{exp}.md",
        csv=report("results/tables/{exp}.csv", category="Tables"),
    params:
        runs=lambda wc: EXPERIMENTS[wc.exp].keys,
    log:
        "results/logs/table-{exp}.log",
    script:
        "../scripts/table.py"


rule plot:
    input:
        lambda wc: run_files(wc.exp),
        lambda wc: run_files(wc.exp, "curve.csv"),
    output:
        png=report("results/plots/{exp}.png", category="Error curves"),
        svg="results/plots/{exp}.svg",
    params:
        runs=lambda wc: EXPERIMENTS[wc.exp].keys,
    log:
        "results/logs/plot-{exp}.log",
    script:
        "../scripts/plot.py"


rule receptive_field:
    output:
        report("results/plots/receptive-field.png", category="Receptive field"),
    log:
        "results/logs/receptive-field.log",
    script:
        "../scripts/receptive_field.py"


rule article:
    input:
        tables=expand("results/tables/{exp}.md", exp=EXPERIMENTS),
        plots=expand("results/plots/{exp}.png", exp=EXPERIMENTS),
        receptive_field="results/plots/receptive-field.png",
        sections="workflow/report/sections.yaml",
    output:
        md=report("report/article.md", category="Article"),
        html="report/article.html",
    params:
        scale=config["scale"],
        runs=sorted(RUNS),
    log:
        "results/logs/article.log",
    script:
        "../scripts/article.py"
