"""Model registry: one module per model. A model module declares its setting keys (`KEYS`),
`DEFAULTS`, its `VERSION` stamp, its `MODEL` class (built from exactly its keys) and
`EFFECTIVE_GFLOPS` (its training rate, for `vslm plan`), and optionally `normalize(settings, raw)`,
`ORIGINAL_KEYS` (the original's matrix keys and their names here, to match a run of the original's
code to its cell) and `ORIGINAL_EXECUTION` (settings that run it as the original did, for
`vslm bench`). Adding a model is one module plus its line here."""
from __future__ import annotations

import torch.nn as nn

from . import conv, lstm, mamba

MODELS = {"conv": conv, "lstm": lstm, "mamba": mamba}


def build_model(settings: dict) -> nn.Module:
    module = MODELS[settings["model"]]
    return module.MODEL(**{k: settings[k] for k in module.KEYS})


def count_params(model: nn.Module) -> int:
    """Trainable parameters, a tied matrix counted once (as the original reported them)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
