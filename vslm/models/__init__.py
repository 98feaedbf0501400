"""Model registry: one module per model; settings in, `nn.Module` out."""
from __future__ import annotations

import torch.nn as nn

from ..settings import model_keys
from .conv import ConvText
from .lstm import LSTMText
from .mamba import MambaText

MODELS = {"conv": ConvText, "lstm": LSTMText, "mamba": MambaText}
CAUSAL = {"conv": False, "lstm": True, "mamba": True}


def build_model(settings: dict) -> nn.Module:
    name = settings["model"]
    return MODELS[name](**{k: settings[k] for k in model_keys(name)[1:]})


def count_params(model: nn.Module) -> int:
    """Trainable parameters, a tied matrix counted once (as the original reported them)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
