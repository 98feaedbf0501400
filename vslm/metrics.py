"""The original's metrics (§4 of the spec), per batch and accumulated.

Per batch: loss (CE mean over all B*L positions), error% (wrong positions),
mask_error% (wrong positions inside the mask), sample_error% (samples with any
wrong position). Validation values are the unweighted mean of batch values, as
the original reported them, and also exact values over all samples.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

NAMES = ("loss", "error%", "mask_error%", "sample_error%")
EXACT_NAMES = NAMES[1:]  # the error rates also have exact (per-sample) values
# exact counterparts: numerator and denominator indices in the count vector
_COUNTS = ("wrong", "positions", "mask_wrong", "mask", "samples_wrong", "samples")


def batch_stats(logits: torch.Tensor, target: torch.Tensor, masked: torch.Tensor):
    """-> (loss tensor with grad, detached vector [4 batch metrics + 6 counts])."""
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), target.reshape(-1))
    wrong = logits.argmax(-1) != target
    in_mask = masked == 0
    mask_wrong = (wrong & in_mask).sum()
    samples_wrong = wrong.any(dim=1).sum()
    # sizes filled on the device (no host-to-device copy, so no sync per step on a GPU)
    counts = torch.stack([wrong.sum(), target.new_full((), wrong.numel()), mask_wrong,
                          in_mask.sum(), samples_wrong, target.new_full((), len(target))]).float()
    values = torch.stack([loss.detach().float(), 100 * counts[0] / counts[1], 100 * counts[2] / counts[3],
                          100 * counts[4] / counts[5]])
    return loss, torch.cat([values, counts])


class Accumulator:
    """Sums batch vectors on the device; read (one host sync) only when reported."""

    def __init__(self):
        self.total, self.batches = None, 0

    def add(self, vec: torch.Tensor):
        self.total = vec.clone() if self.total is None else self.total + vec
        self.batches += 1

    def state(self):
        return {"total": None if self.total is None else self.total.cpu(), "batches": self.batches}

    def load(self, state, device):
        self.total = None if state["total"] is None else state["total"].to(device)
        self.batches = state["batches"]

    def means(self) -> dict:
        """Unweighted mean over batches of the batch metrics (the original's way)."""
        t = self.total.cpu().tolist()
        return {n: t[i] / self.batches for i, n in enumerate(NAMES)}

    def exact(self) -> dict:
        """error%, mask_error% and sample_error% over all positions / samples."""
        c = dict(zip(_COUNTS, self.total.cpu().tolist()[len(NAMES):]))
        return {"error%": 100 * c["wrong"] / c["positions"], "mask_error%": 100 * c["mask_wrong"] / c["mask"],
                "sample_error%": 100 * c["samples_wrong"] / c["samples"]}
