# Config validation, experiments, the run index and the spec files shared by all rules.
import glob
import json
import os
import re

from vslm.checkout import (
    check_writable,
    put_on_pythonpath,
    quiet_missing_metadata,
    stamp_fresh_clone,
)
from vslm.config import load, read_config
from vslm.experiments import all_runs, experiment_record, write_if_changed
from vslm.reference import reference_names
from vslm.rundir import check_run
from vslm.settings import split_spec
from vslm.train import TRAIN_RETRIES

check_writable()
# The file first, with its limits (size, YAML aliases, duplicate keys, schema), before Snakemake's
# own reader walks it; then, with --config overrides, ids, references and columns.
read_config("config.yaml")


configfile: "config.yaml"


# Every job imports vslm from this checkout (with --software-deployment-method conda too, whose env
# holds only the pinned dependencies: workflow/envs/vslm.yaml).
put_on_pythonpath(workflow.basedir)

EXPERIMENTS = load(config, root=".")
RUNS = all_runs(EXPERIMENTS)
# A corrupt committed result or curve stops the DAG here, before any job can delete outputs.
for _key in RUNS:
    check_run(_key)
SCALE = config["scale"]


def spec_text(obj) -> str:
    return json.dumps(obj, indent=1) + "\n"


# A new clean checkout: committed outputs stamped newer than their inputs (git wrote them in path
# order), so it has nothing to rebuild; the spec files below then mark any real change.
stamp_fresh_clone()
quiet_missing_metadata()

# Spec files: what each table, plot and the article are built from (experiment entry, scale, run
# keys; the scale's note). Rewritten only when their content changes, so an edited experiment or
# a switched scale rebuilds exactly its outputs by mtime, even in a fresh clone without metadata.
for _name, _exp in EXPERIMENTS.items():
    write_if_changed(
        f"results/specs/{_name}.json", spec_text(experiment_record(_exp, SCALE))
    )
# Execution settings (device, threads) per run that sets any: read by the training job, not a param or
# input, so changing them never reruns a done run (its key, and so its params, stay the same).
write_if_changed(
    "results/specs/execution.json",
    spec_text({k: e for k, s in sorted(RUNS.items()) if (e := split_spec(s)[1])}),
)
write_if_changed(
    "results/specs/article.json",
    spec_text(
        {
            "scale": SCALE,
            "note": config["scales"][SCALE].get("note", ""),
            "experiments": list(EXPERIMENTS),
        }
    ),
)


def use_gpu() -> int:
    """1 when training jobs will run on CUDA: only then do they hold the `gpu` resource (and a
    GPU slot). VSLM_GPU_COUNT simulates GPUs for the tests (the jobs then still train on the CPU).
    """
    import torch

    return int(torch.cuda.is_available() or bool(os.environ.get("VSLM_GPU_COUNT")))


GPU = use_gpu()


wildcard_constraints:
    exp="|".join(re.escape(name) for name in EXPERIMENTS),
    key="[0-9a-f]{12}",


def run_files(name, filename="metrics.json"):
    return [f"results/runs/{key}/{filename}" for key in EXPERIMENTS[name].keys]


def reference_files(name):
    return [f"reference/{r}" for r in reference_names(EXPERIMENTS[name].spec)]


# The report (`snakemake --report`): tables and plots under their article section, each labelled with
# its table id and title (labels are shown as text, never as markup); examples under their experiment.
def report_section(wildcards):
    return EXPERIMENTS[wildcards.exp].spec["section"]


def report_labels(wildcards):
    return {"table": wildcards.exp, "title": EXPERIMENTS[wildcards.exp].spec["title"]}


RUN_EXPERIMENT = {}  # run key -> the first experiment that has the run
for _name, _exp in EXPERIMENTS.items():
    for _key in _exp.keys:
        RUN_EXPERIMENT.setdefault(_key, _name)
