"""Mamba baseline (pure PyTorch, causal): embedding -> residual Mamba blocks -> RMSNorm -> tied head.

Shapes follow the original (mamba-minimal layout): d_inner = 2 d_model, dt_rank =
ceil(d_model / 16), depthwise causal conv of width 4, selective SSM with diagonal A.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 256


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.eps, self.weight = eps, nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def scan_sequential(u, delta, A, B, C, D):
    """The reference selective scan: h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t, y_t = C_t h_t + D u_t.

    u, delta: [b, L, d]; A: [d, n]; B, C: [b, L, n]; D: [d].
    """
    dA = torch.exp(delta.unsqueeze(-1) * A)
    dBu = (delta * u).unsqueeze(-1) * B.unsqueeze(2)
    h = u.new_zeros(u.shape[0], u.shape[2], A.shape[1])
    ys = []
    for t in range(u.shape[1]):
        h = dA[:, t] * h + dBu[:, t]
        ys.append((h @ C[:, t].unsqueeze(-1)).squeeze(-1))
    return torch.stack(ys, dim=1) + u * D


class MambaBlock(nn.Module):
    def __init__(self, d_model: int, d_state: int, dtinit: str, expand: int = 2, d_conv: int = 4):
        super().__init__()
        d_inner = expand * d_model
        self.d_inner, self.d_state, self.dt_rank = d_inner, d_state, math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv1d = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, padding=d_conv - 1)
        self.x_proj = nn.Linear(d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, d_inner, bias=True)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(d_inner, 1))
        self.D = nn.Parameter(torch.ones(d_inner))
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)
        if dtinit == "mamba":
            self._official_dt_init()

    @torch.no_grad()
    def _official_dt_init(self, dt_min=1e-3, dt_max=0.1, floor=1e-4):
        """dt_proj as in the official Mamba: uniform weights, bias = softplus^-1 of log-uniform dt."""
        std = self.dt_rank ** -0.5
        self.dt_proj.weight.uniform_(-std, std)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=floor)
        self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

    def forward(self, x):  # [b, L, d_model]
        L = x.shape[1]
        u, res = self.in_proj(x).split(self.d_inner, dim=-1)
        u = F.silu(self.conv1d(u.transpose(1, 2))[..., :L].transpose(1, 2))
        dt, B, C = self.x_proj(u).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(dt))
        y = scan_sequential(u, delta, -torch.exp(self.A_log), B, C, self.D)
        return self.out_proj(y * F.silu(res))


class Residual(nn.Module):
    def __init__(self, d_model, **kw):
        super().__init__()
        self.norm, self.mixer = RMSNorm(d_model), MambaBlock(d_model, **kw)

    def forward(self, x):
        return x + self.mixer(self.norm(x))


class MambaText(nn.Module):
    def __init__(self, l: int, ch: int, d_state: int, dtinit: str):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, ch)
        self.layers = nn.ModuleList(Residual(ch, d_state=d_state, dtinit=dtinit) for _ in range(l))
        self.norm_f = RMSNorm(ch)

    def forward(self, ids):
        x = self.embedding(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm_f(x) @ self.embedding.weight.t()
