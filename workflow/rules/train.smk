# One job per (cell, trial); the run directory is named by the run key (content address).


rule train:
    output:
        metrics="results/runs/{key}/metrics.json",
        curve="results/runs/{key}/curve.csv",
        examples=report(
            "results/runs/{key}/examples.png",
            caption="../report/examples.rst",
            category="Validation examples",
            subcategory=lambda wc: RUN_EXPERIMENT[wc.key],
            labels=lambda wc: {"run": wc.key},
        ),
        text="results/runs/{key}/examples.txt",
    log:
        "results/logs/{key}.log",
    benchmark:
        "results/benchmarks/{key}.tsv"
    retries: TRAIN_RETRIES
    conda:
        "../envs/vslm.yaml"
    threads: 1
    resources:
        gpu=GPU,
        # the job script records a failed run only on its last attempt (the script API has no attempt)
        attempt=lambda wildcards, attempt: attempt,
    params:
        # what the run key is a hash of (execution settings: results/specs/execution.json)
        spec=lambda wc: split_spec(RUNS[wc.key])[0],
    script:
        "../scripts/train.py"
