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


class FusedScan(torch.autograd.Function):
    """The same recurrence with a hand-written backward: only the two state recurrences
    (forward h_t, backward dL/dh_t) loop over positions, everything else is whole-tensor work.
    Tensors are laid out [L, b, d, n] so each position is one contiguous block."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D):
        uT, dT, BT, CT = (t.transpose(0, 1).contiguous() for t in (u, delta, B, C))  # [L, b, .]
        dA = (dT.unsqueeze(-1) * A).exp_()
        du = dT * uT
        H = du.unsqueeze(-1) * BT.unsqueeze(2)  # dBu, overwritten in place by the states
        for t in range(1, H.shape[0]):
            H[t].addcmul_(dA[t], H[t - 1])
        L, b, d, n = H.shape
        y = torch.bmm(H.view(L * b, d, n), CT.view(L * b, n, 1)).view(L, b, d) + uT * D
        ctx.save_for_backward(uT, dT, A, BT, CT, D, dA, H)
        return y.transpose(0, 1)

    @staticmethod
    def backward(ctx, gy):
        uT, dT, A, BT, CT, D, dA, H = ctx.saved_tensors
        L, b, d, n = H.shape
        gyT = gy.transpose(0, 1).contiguous()
        G = gyT.unsqueeze(-1) * CT.unsqueeze(2)  # direct dL/dh_t, then the full one in place
        for t in range(L - 2, -1, -1):
            G[t].addcmul_(dA[t + 1], G[t + 1])
        gC = torch.bmm(H.view(L * b, d, n).transpose(1, 2), gyT.view(L * b, d, 1)).view(L, b, n)
        X = G[1:] * H[:-1]
        X.mul_(dA[1:])  # dL/d(delta_t A) for t >= 1 (h_{-1} = 0, so t = 0 contributes nothing)
        gA = (X * dT[1:].unsqueeze(-1)).sum((0, 1))
        gdu = torch.bmm(G.view(L * b, d, n), BT.view(L * b, n, 1)).view(L, b, d)
        du = dT * uT
        gB = torch.bmm(G.view(L * b, d, n).transpose(1, 2), du.view(L * b, d, 1)).view(L, b, n)
        gdelta = gdu * uT
        gdelta[1:] += (X * A).sum(-1)
        gu = gdu * dT + gyT * D
        gD = (gyT * uT).sum((0, 1))
        return (gu.transpose(0, 1), gdelta.transpose(0, 1), gA, gB.transpose(0, 1), gC.transpose(0, 1), gD)


def scan_fused(u, delta, A, B, C, D):
    """FusedScan in float32 (also under bf16 autocast, like the recurrence of the reference)."""
    args = (u, delta, A, B, C, D)
    if not torch.is_autocast_enabled(u.device.type):
        return FusedScan.apply(*args)
    with torch.autocast(u.device.type, enabled=False):
        return FusedScan.apply(*(t.float() for t in args))


SCANS = {"sequential": scan_sequential, "fused": scan_fused}


class MambaBlock(nn.Module):
    def __init__(self, d_model: int, d_state: int, dtinit: str, scan: str, expand: int = 2, d_conv: int = 4):
        super().__init__()
        d_inner = expand * d_model
        self.d_inner, self.d_state, self.dt_rank = d_inner, d_state, math.ceil(d_model / 16)
        self.scan = SCANS[scan]
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
        y = self.scan(u, delta, -torch.exp(self.A_log), B, C, self.D)
        return self.out_proj(y * F.silu(res))


class Residual(nn.Module):
    def __init__(self, d_model, **kw):
        super().__init__()
        self.norm, self.mixer = RMSNorm(d_model), MambaBlock(d_model, **kw)

    def forward(self, x):
        return x + self.mixer(self.norm(x))


class MambaText(nn.Module):
    def __init__(self, l: int, ch: int, d_state: int, dtinit: str, scan: str):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, ch)
        self.layers = nn.ModuleList(Residual(ch, d_state=d_state, dtinit=dtinit, scan=scan) for _ in range(l))
        self.norm_f = RMSNorm(ch)

    def forward(self, ids):
        x = self.embedding(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm_f(x) @ self.embedding.weight.t()
