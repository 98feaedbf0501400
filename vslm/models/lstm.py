"""LSTM baseline: embedding -> unidirectional (causal) multi-layer LSTM -> tied head."""
from __future__ import annotations

import torch
import torch.nn as nn

from ..keys import keyed
from .shared import LAYERS, VOCAB, WIDTH

KEYS = keyed(
    LAYERS,
    WIDTH,
)
DEFAULTS = {"l": 6, "ch": 64}
VERSION = 1  # bump when a change alters results: exactly this model's runs retrain
EFFECTIVE_GFLOPS = 38.0  # training rate for `vslm plan`'s estimates (vslm/plan.py says how it was fitted)


class LSTMText(nn.Module):
    def __init__(self, l: int, ch: int):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, ch)
        self.lstm = nn.LSTM(ch, ch, num_layers=l, batch_first=True)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.lstm(self.embedding(ids))[0] @ self.embedding.weight.t()


MODEL = LSTMText
