"""The `tf32` precision: every Conv1d's operands rounded to TF32 (a 10-bit mantissa, round to
nearest even) in the forward and both backward convolutions, accumulating in fp32, as cuDNN does
on a GPU with `torch.backends.cudnn.allow_tf32` (PyTorch's default, which the original ran with)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

DROPPED = 13  # fp32 has a 23-bit mantissa, TF32 keeps 10


def round_tf32(x: torch.Tensor) -> torch.Tensor:
    """fp32 values rounded to the nearest TF32 value (ties to even); inf and nan pass unchanged."""
    bits = x.contiguous().view(torch.int32)
    half, lsb = 1 << (DROPPED - 1), (bits >> DROPPED) & 1
    rounded = ((bits + (half - 1) + lsb) & ~((1 << DROPPED) - 1)).view(torch.float32)
    return torch.where(torch.isfinite(x), rounded, x)


class _Conv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, padding, dilation, groups)
        ctx.has_bias = b is not None
        return F.conv1d(round_tf32(x), round_tf32(w), b, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        g = round_tf32(grad)
        gx = torch.nn.grad.conv1d_input(x.shape, round_tf32(w), g, *ctx.conf)
        gw = torch.nn.grad.conv1d_weight(round_tf32(x), w.shape, g, *ctx.conf)
        gb = grad.sum(dim=(0, 2)) if ctx.has_bias else None
        return gx, gw, gb, None, None, None, None


class TF32Conv1d(nn.Conv1d):
    """A Conv1d whose convolutions see TF32-rounded operands (zero padding only)."""

    def _conv_forward(self, x, weight, bias):
        return _Conv.apply(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)


def use_tf32_convs(model: nn.Module) -> nn.Module:
    """Every zero-padded Conv1d of `model` switched to TF32 operands in place (parameters unchanged)."""
    for m in model.modules():
        if type(m) is nn.Conv1d and m.padding_mode == "zeros":
            m.__class__ = TF32Conv1d
    return model
