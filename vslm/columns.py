"""The vocabulary of the tables' columns: which are metrics (and their metrics.json key and scale),
which are settings (and under which setting name), and which are per layer."""
from __future__ import annotations

# article column name -> (metrics.json key, scale)
METRICS = {
    "validation loss": ("validation_loss", 1),
    "validation_mask_error%": ("validation_mask_error%", 1),
    "validation mask error %": ("validation_mask_error%", 1),
    "validation_sample_error%": ("validation_sample_error%", 1),
    "validation sample error%": ("validation_sample_error%", 1),
    "train_sample_error%": ("train_sample_error%", 1),
    "model params": ("model_params", 1),
    "train time (minutes)": ("train_time_s", 1 / 60),
    "throughput": ("throughput", 1),
}
# a metric's name for reading (the tables' CSVs keep the original's column names)
LABELS = {"validation_loss": "validation loss", "validation_mask_error%": "mask error %",
          "validation_sample_error%": "sample error %", "train_sample_error%": "train sample error %"}
SHORT = {"validation_sample_error%": "sample", "validation_mask_error%": "mask", "validation_loss": "loss",
         "train_sample_error%": "train sample"}  # a metric's name beside a factor ('sample ×1.2')
NO_REFERENCE = ("train time (minutes)", "throughput")  # hardware-specific: not compared
SETTING_ALIASES = {"dilation": "dil", "trial": "seed"}
PER_LAYER = ("dil", "attn")


def setting_columns(exp) -> list[str]:
    return [c for c in exp.spec["columns"] if c not in METRICS]


def metric_columns(exp) -> list[str]:
    return [c for c in exp.spec["columns"] if c in METRICS]


def cell_value(col: str, settings: dict):
    """A setting column's value in resolved settings."""
    return settings[SETTING_ALIASES.get(col, col)]


def label(name: str) -> str:
    """A column or metrics.json key as the article prints it: 'validation_mask_error% (original)'
    -> 'mask error % (original)'; a name without a label is kept."""
    base, sep, rest = name.partition(" (")
    key = METRICS[base][0] if base in METRICS else base
    return LABELS.get(key, base) + sep + rest
