"""ConvText: byte embedding -> residual dilated Conv1d layers (optionally with self-attention)
-> output head tied to the embedding. Bidirectional (non-causal), as the original."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..keys import Key, SettingsError, attn_entry, choice, integer, items, keyed, upto
from .attention import linear_attention
from .shared import LAYERS, VOCAB, WIDTH

KEYS = keyed(
    LAYERS,
    WIDTH,
    Key("ks", upto(1023), "conv kernel size"),
    Key("dil", lambda k, v: [integer(k, x) for x in items(v)], "conv dilation: one value or one per layer"),
    Key("attn", lambda k, v: [attn_entry(k, x) for x in items(v)],
        "attention per layer: 0 none, T linear attention, N = MultiheadAttention heads"),
    Key("qkv", choice(["QK", "QV", "KV", "QKV"]), "tensors the layer's conv invents; the missing one is "
        "the layer input"),
    Key("attnact", choice(["elu+1", "dpfp"]), "feature map of the linear attention"),
    Key("norm", choice(["none", "bn"]), "bn = BatchNorm1d in every layer but the last"),
    Key("embedding", choice(["default", "diagonal"]), "embedding init: N(0,1) or the 'diagonal hat' matrix"),
)
DEFAULTS = {"l": 6, "ch": 64, "ks": 9, "dil": 1, "attn": 0, "qkv": "QK", "attnact": "elu+1",
            "norm": "none", "embedding": "default"}
VERSION = 1  # bump when a change alters results: exactly this model's runs retrain
EFFECTIVE_GFLOPS = 50.0  # training rate for `vslm plan`'s estimates (vslm/plan.py says how it was fitted)
ORIGINAL_KEYS = {k: k for k in ("l", "ch", "ks", "dil", "attn", "qkv")}  # the original's matrix keys: names here


def normalize(out: dict, raw: dict) -> None:
    """Per-layer settings to one entry per layer; attention heads must divide the channels."""
    for key in ("dil", "attn"):
        if len(out[key]) == 1:
            out[key] = out[key] * out["l"]
        if len(out[key]) != out["l"]:
            raise SettingsError(key, raw.get(key), f"needs one entry per layer (l={out['l']})")
    for n in out["attn"]:
        if n not in ("T", 0) and out["ch"] % n:
            raise SettingsError("attn", raw.get("attn"), f"{n} heads do not divide ch={out['ch']}")


def diagonal_embedding(channels: int) -> torch.Tensor:
    """The 'diagonal hat' init: each byte a linear interpolation between adjacent channels."""
    i = torch.arange(VOCAB, dtype=torch.float64)[:, None]
    c = torch.arange(channels, dtype=torch.float64)[None, :]
    if channels <= VOCAB:
        e = 1 - (c - i * (channels - 1) / (VOCAB - 1)).abs()
    else:
        e = 1 - (i - c * (VOCAB - 1) / (channels - 1)).abs()
    return e.clamp(min=0).float()


class ConvLayer(nn.Module):
    """norm -> Conv1d (C -> m*C) -> [attention] -> GELU -> + residual (un-normalised input)."""

    def __init__(self, ch: int, ks: int, dil: int, attn, qkv: str, attnact: str, norm: bool):
        super().__init__()
        self.attn, self.qkv, self.attnact = attn, qkv, attnact
        self.invented = len(qkv) if attn else 1
        self.norm = nn.BatchNorm1d(ch) if norm else None
        self.conv = nn.Conv1d(ch, self.invented * ch, ks, dilation=dil, padding=(ks // 2) * dil)
        self.mha = nn.MultiheadAttention(ch, attn, batch_first=True) if attn not in (0, "T") else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, L]
        xn = self.norm(x) if self.norm is not None else x
        y = self.conv(xn)
        if self.attn:
            parts = dict(zip(self.qkv, y.chunk(self.invented, dim=1)))
            q, k, v = (parts.get(n, xn).transpose(1, 2) for n in "QKV")
            if self.mha is not None:
                y = self.mha(q, k, v, need_weights=False)[0]
            else:
                y = linear_attention(q, k, v, self.attnact)
            y = y.transpose(1, 2)
        return F.gelu(y) + x


class ConvText(nn.Module):
    def __init__(self, l: int, ch: int, ks: int, dil: list, attn: list, qkv: str, attnact: str,
                 norm: str, embedding: str):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, ch)
        if embedding == "diagonal":
            with torch.no_grad():
                self.embedding.weight.copy_(diagonal_embedding(ch))
        self.layers = nn.ModuleList(
            ConvLayer(ch, ks, dil[i], attn[i], qkv, attnact, norm == "bn" and i < l - 1) for i in range(l))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, 256]
        x = self.embedding(ids).transpose(1, 2)
        for layer in self.layers:
            x = layer(x)
        return x.transpose(1, 2) @ self.embedding.weight.t()


MODEL = ConvText
