"""Metrics against hand-computed batches, including the original's quanta."""
import pytest
import torch

from vslm.metrics import Accumulator, batch_stats


def one_hot_logits(pred: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(pred, 256).float() * 10


def test_hand_computed_batch():
    target = torch.tensor([[65, 66, 58, 67, 68], [69, 70, 58, 71, 72]])
    masked = torch.tensor([[65, 66, 58, 0, 0], [69, 70, 58, 0, 0]])
    pred = target.clone()
    pred[0, 3] = 90  # one wrong answer char in sample 0
    pred[1, 0] = 90  # one wrong question char in sample 1
    loss, vec = batch_stats(one_hot_logits(pred), target, masked)
    values = vec[:4].tolist()
    assert values[1] == pytest.approx(100 * 2 / 10)  # error%
    assert values[2] == pytest.approx(100 * 1 / 4)  # mask_error%: 1 of 4 masked chars
    assert values[3] == pytest.approx(100.0)  # both samples have a wrong char somewhere
    expected = torch.nn.functional.cross_entropy(one_hot_logits(pred).view(-1, 256), target.view(-1))
    assert loss.item() == pytest.approx(expected.item())


def test_validation_quanta_of_the_original():
    """10,000 samples in batches of 64: one wrong sample = 100/64/157 % sample error, one wrong
    answer char (5-char mask) = 100/320/157 % mask error, as in the article's tables."""
    acc = Accumulator()
    for b in range(157):
        n = 64 if b < 156 else 16
        target = torch.full((n, 11), 65)
        masked = target.clone()
        masked[:, -5:] = 0
        pred = target.clone()
        if b == 3:
            pred[0, -1] = 66
        acc.add(batch_stats(one_hot_logits(pred), target, masked)[1])
    means, exact = acc.means(), acc.exact()
    assert means["sample_error%"] == pytest.approx(0.00995223, abs=1e-8)
    assert means["mask_error%"] == pytest.approx(0.00199045, abs=1e-8)
    assert exact["sample_error%"] == pytest.approx(0.01)
    assert exact["mask_error%"] == pytest.approx(0.002)
