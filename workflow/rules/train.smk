# One job per (cell, trial); the run directory is named by the run key (content address).


rule train:
    output:
        metrics="results/runs/{key}/metrics.json",
        curve="results/runs/{key}/curve.csv",
        examples=report("results/runs/{key}/examples.png", caption="../report/examples.rst", category="Validation examples"),
        text="results/runs/{key}/examples.txt",
    params:
        # the run's spec: changes with its key or an execution setting (a new option keeps it)
        spec=lambda wc: run_spec(RUNS[wc.key]),
    log:
        "results/logs/{key}.log",
    threads: 1
    retries: TRAIN_RETRIES
    resources:
        gpu=GPU,
    script:
        "../scripts/train.py"
