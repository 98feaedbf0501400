# Config validation, experiments and the run index shared by all rules.
import re

from snakemake.utils import validate

from vslm.experiments import all_runs, load_config
from vslm.settings import run_spec


configfile: "config.yaml"


validate(config, "../schemas/config.schema.yaml")

EXPERIMENTS = load_config(config)
RUNS = all_runs(EXPERIMENTS)


def use_gpu() -> int:
    """1 when training jobs will run on CUDA: only then do they hold the `gpu` resource."""
    import torch

    return int(torch.cuda.is_available())


GPU = use_gpu()


wildcard_constraints:
    exp="|".join(re.escape(name) for name in EXPERIMENTS),
    key="[0-9a-f]{12}",


def run_files(name, filename="metrics.json"):
    return [f"results/runs/{key}/{filename}" for key in EXPERIMENTS[name].keys]
