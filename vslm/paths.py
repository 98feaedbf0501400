"""The repository layout, relative to its root (the folder holding config.yaml). The workflow's
rules name the same paths (workflow/rules/*.smk)."""
from pathlib import Path

RUNS_DIR = "results/runs"
ORIGINAL_RUNS_DIR = "results/original-runs"  # the original's own code, run here
REFERENCE_DIR = "reference"
SCHEMA = "workflow/schemas/config.schema.yaml"
SECTIONS = "workflow/report/sections.yaml"
WORDING = "workflow/report/text.yaml"  # the fixed prose
VERDICTS = "workflow/verdicts.yaml"
PLAN = "workflow/plan.yaml"  # the stopping rule of the trials added to decide claims
OUTPUTS = ("results", "report")  # the pipeline's committed outputs


def root_of(config_path: str | Path) -> Path:
    """The repository root of a config file: paths resolve from there, not from the working directory."""
    return Path(config_path).resolve().parent
