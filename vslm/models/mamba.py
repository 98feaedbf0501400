"""Mamba baseline (causal): embedding -> residual Mamba blocks -> RMSNorm -> tied head.

Shapes follow the original (mamba-minimal layout): d_inner = 2 d_model, dt_rank =
ceil(d_model / 16), depthwise causal conv of width 4, selective SSM with diagonal A.
Three implementations of the same selective scan: the original's autograd loop
(`scan=sequential`), and for `scan=fused` a C++ kernel on the CPU or a PyTorch
version with a hand-written backward elsewhere.
"""
from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..keys import Key, choice, keyed, upto
from .shared import LAYERS, VOCAB, WIDTH

KEYS = keyed(
    LAYERS,
    WIDTH,
    Key("d_state", upto(1024), "mamba state size"),
    Key("dtinit", choice(["torch", "mamba"]), "mamba dt projection init: torch Linear default "
        "(original) or official Mamba"),
    Key("scan", choice(["fused", "sequential"]), "mamba selective scan: fused (C++ kernel on CPU, "
        "hand-written backward elsewhere) or the original's loop"),
)
DEFAULTS = {"l": 6, "ch": 32, "d_state": 16, "dtinit": "torch", "scan": "fused"}
VERSION = 1  # bump when a change alters results: exactly this model's runs retrain
EFFECTIVE_GFLOPS = 9.5  # training rate for `vslm plan`'s estimates (vslm/plan.py says how it was fitted)
ORIGINAL_EXECUTION = {"scan": "sequential"}  # how the original ran it (`vslm bench`'s plain loop)


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
    (forward h_t, backward dL/dh_t) loop over positions; the rest is whole-tensor work done a
    few positions at a time (CHUNK), so each block stays in cache (1.4x faster than unchunked).
    Tensors are laid out [L, b, d, n] so each position is one contiguous block."""

    CHUNK = 4

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D):
        uT, dT, BT, CT = (t.transpose(0, 1).contiguous() for t in (u, delta, B, C))  # [L, b, .]
        (L, b, d), n = uT.shape, A.shape[1]
        du = dT * uT
        H, dA, y = u.new_empty(L, b, d, n), u.new_empty(L, b, d, n), u.new_empty(L, b, d)
        for s in range(0, L, FusedScan.CHUNK):
            e = min(s + FusedScan.CHUNK, L)
            # exp of arguments below -87 (results under float32's smallest normal, 1.2e-38) takes
            # a path ~90x slower on CPU; clamping there changes values by less than 2e-38.
            torch.mul(dT[s:e].unsqueeze(-1), A, out=dA[s:e]).clamp_(min=-87.0).exp_()
            torch.mul(du[s:e].unsqueeze(-1), BT[s:e].unsqueeze(2), out=H[s:e])  # dBu, then the states
            for t in range(max(s, 1), e):
                H[t].addcmul_(dA[t], H[t - 1])
            torch.bmm(H[s:e].view(-1, d, n), CT[s:e].reshape(-1, n, 1), out=y[s:e].view(-1, d, 1))
        y += uT * D
        ctx.save_for_backward(uT, dT, A, BT, CT, D, dA, H)
        return y.transpose(0, 1)

    @staticmethod
    def backward(ctx, gy):
        uT, dT, A, BT, CT, D, dA, H = ctx.saved_tensors
        L, b, d, n = H.shape
        gyT = gy.transpose(0, 1).contiguous()
        du = dT * uT
        gC, gB, gdu = gy.new_empty(L, b, n), gy.new_empty(L, b, n), gy.new_empty(L, b, d)
        g_decay, gA = gy.new_zeros(L, b, d), gy.new_zeros(A.shape)  # through exp(delta A)
        G_next = None  # dL/dh at the first position of the chunk after this one
        for s in reversed(range(0, L, FusedScan.CHUNK)):
            e = min(s + FusedScan.CHUNK, L)
            G = gyT[s:e].unsqueeze(-1) * CT[s:e].unsqueeze(2)  # direct dL/dh_t, then the full one
            if G_next is not None:
                G[-1].addcmul_(dA[e], G_next)
            for t in range(e - s - 2, -1, -1):
                G[t].addcmul_(dA[s + t + 1], G[t + 1])
            G_next = G[0]
            torch.bmm(H[s:e].view(-1, d, n).transpose(1, 2), gyT[s:e].reshape(-1, d, 1), out=gC[s:e].view(-1, n, 1))
            torch.bmm(G.view(-1, d, n), BT[s:e].reshape(-1, n, 1), out=gdu[s:e].view(-1, d, 1))
            torch.bmm(G.view(-1, d, n).transpose(1, 2), du[s:e].reshape(-1, d, 1), out=gB[s:e].view(-1, n, 1))
            lo = max(s, 1)  # h_{-1} = 0: position 0 gets no gradient through its decay
            X = G[lo - s:] * H[lo - 1:e - 1]
            X.mul_(dA[lo:e])  # dL/d(delta_t A)
            gA += (X * dT[lo:e].unsqueeze(-1)).sum((0, 1))
            g_decay[lo:e] = (X * A).sum(-1)
        gdelta = gdu * uT + g_decay
        gu = gdu * dT + gyT * D
        gD = (gyT * uT).sum((0, 1))
        return (gu.transpose(0, 1), gdelta.transpose(0, 1), gA, gB.transpose(0, 1), gC.transpose(0, 1), gD)


class NativeScan(torch.autograd.Function):
    """The recurrence as a C++ loop (scan_kernel.cpp): one pass per (batch, channel), CPU only."""

    @staticmethod
    def forward(ctx, *args):
        args = [a.contiguous() for a in args]
        ctx.save_for_backward(*args)
        return native_kernel().forward(*args)

    @staticmethod
    def backward(ctx, gy):
        return tuple(native_kernel().backward(*ctx.saved_tensors, gy.contiguous()))


@functools.cache
def native_kernel():
    """The compiled CPU kernel (built once per machine, ~30 s, then cached), or None."""
    from torch.utils.cpp_extension import load

    try:
        return load(name="vslm_scan", sources=[str(Path(__file__).with_name("scan_kernel.cpp"))],
                    extra_cflags=["-O3", "-march=native", "-ffast-math", "-fopenmp-simd"])
    except Exception as e:  # no compiler or ninja: the PyTorch version computes the same
        warnings.warn(f"vslm: C++ selective scan not built ({type(e).__name__}: {e}); using FusedScan", stacklevel=2)
        return None


def scan_fused(u, delta, A, B, C, D):
    """The fastest exact scan for the device: the C++ kernel on the CPU, else FusedScan;
    in float32 also under bf16 autocast, like the recurrence of the reference."""
    args = (u, delta, A, B, C, D)
    if torch.is_autocast_enabled(u.device.type):
        with torch.autocast(u.device.type, enabled=False):
            return scan_fused(*(t.float() for t in args))
    if u.device.type == "cpu" and native_kernel() is not None:
        return NativeScan.apply(*args)
    return FusedScan.apply(*args)


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


MODEL = MambaText
