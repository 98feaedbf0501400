# Metrics -> tables and plots per experiment -> the article.


rule judge:
    input:
        # a cell's verdict uses its trials in every table, and the noise of our alike cells
        experiments=expand("results/specs/{exp}.json", exp=EXPERIMENTS),
        runs=expand("results/runs/{key}/metrics.json", key=sorted(RUNS)),
        reference=sorted({r for name in EXPERIMENTS for r in reference_files(name)}),
        original_runs=sorted(glob.glob("results/original-runs/*/snapshot.json")),
        verdicts="workflow/verdicts.yaml",
        plan="workflow/plan.yaml",
        wording="workflow/report/text.yaml",
    output:
        judged="results/judged.json",
    log:
        "results/logs/judge.log",
    conda:
        "../envs/vslm.yaml"
    script:
        "../scripts/judge.py"


rule table:
    input:
        spec="results/specs/{exp}.json",
        runs=lambda wc: run_files(wc.exp),
        reference=lambda wc: reference_files(wc.exp),
        judged="results/judged.json",
    output:
        md="results/tables/{exp}.md",
        csv=report(
            "results/tables/{exp}.csv",
            caption="../report/table.rst",
            category="Tables",
            subcategory=report_section,
            labels=report_labels,
        ),
    log:
        "results/logs/table-{exp}.log",
    conda:
        "../envs/vslm.yaml"
    script:
        "../scripts/table.py"


rule plot:
    input:
        spec="results/specs/{exp}.json",
        runs=lambda wc: run_files(wc.exp),
        curves=lambda wc: run_files(wc.exp, "curve.csv"),
        reference=lambda wc: reference_files(wc.exp),  # the original's final values
    output:
        png=report(
            "results/plots/{exp}.png",
            caption="../report/plot.rst",
            category="Error curves",
            subcategory=report_section,
            labels=report_labels,
        ),
        svg="results/plots/{exp}.svg",
    log:
        "results/logs/plot-{exp}.log",
    conda:
        "../envs/vslm.yaml"
    script:
        "../scripts/plot.py"


rule summary:
    input:
        judged="results/judged.json",
    output:
        png=report(
            "results/plots/summary.png",
            caption="../report/summary.rst",
            category="Summary",
        ),
        svg="results/plots/summary.svg",
    log:
        "results/logs/summary.log",
    conda:
        "../envs/vslm.yaml"
    script:
        "../scripts/summary.py"


rule receptive_field:
    output:
        report(
            "results/plots/receptive-field.png",
            caption="../report/receptive.rst",
            category="Receptive field",
        ),
    log:
        "results/logs/receptive-field.log",
    conda:
        "../envs/vslm.yaml"
    script:
        "../scripts/receptive_field.py"


rule article:
    input:
        spec="results/specs/article.json",
        experiments=expand("results/specs/{exp}.json", exp=EXPERIMENTS),
        tables=expand("results/tables/{exp}.md", exp=EXPERIMENTS),
        plots=expand("results/plots/{exp}.png", exp=EXPERIMENTS),
        runs=expand("results/runs/{key}/metrics.json", key=sorted(RUNS)),
        curves=expand("results/runs/{key}/curve.csv", key=sorted(RUNS)),
        examples=expand("results/runs/{key}/examples.txt", key=sorted(RUNS)),
        receptive_field="results/plots/receptive-field.png",
        summary="results/plots/summary.png",
        judged="results/judged.json",
        sections="workflow/report/sections.yaml",
        wording="workflow/report/text.yaml",
    output:
        md=report(
            "report/article.md", caption="../report/article.rst", category="Article"
        ),
        html="report/article.html",
    log:
        "results/logs/article.log",
    conda:
        "../envs/vslm.yaml"
    script:
        "../scripts/article.py"
