"""Side by side with the code of the original's selective-copying runs (S1, defgsus/nn-experiments
@b2aaaf4, 2024-12-14): its data generator and ConvTextModel, imported from that commit's files in
`$VSLM_ORIGINAL/b2aaaf4`. Skipped elsewhere.

    mkdir -p /tmp/orig/b2aaaf4
    git -C nn-experiments archive b2aaaf4 experiments/textmask/textmodel.py \\
        src/datasets/generative/text_gen.py src/datasets/base_iterable.py src/models/util.py \\
        src/util/params.py | tar -x -C /tmp/orig/b2aaaf4
    VSLM_ORIGINAL=/tmp/orig python3 -m pytest tests/original
"""
import pytest
import torch
from conftest import has_original, import_original, lock_step, original_loss

from vslm.models import build_model
from vslm.settings import resolve
from vslm.tasks import validation_set
from vslm.train import to_batch

pytestmark = pytest.mark.skipif(not has_original("b2aaaf4", "experiments/textmask/textmodel.py"),
                                reason="VSLM_ORIGINAL has no b2aaaf4/ with the original's S1 code")
SETTINGS = dict(task="selcopy", nitem=10, area=40, model="conv", l=6, ch=64, ks=9)


def original():
    """The original's ConvTextModel and selective-copying generator (b2aaaf4)."""
    textmodel, text_gen = import_original("b2aaaf4", "experiments.textmask.textmodel",
                                          "src.datasets.generative.text_gen")
    return textmodel.ConvTextModel, text_gen.TextSelectiveCopyingIterableDataset


def models():
    """Ours and the original's ConvTextModel with the same (our) initial weights, in float64."""
    ConvTextModel, _ = original()
    torch.manual_seed(0)
    ours = build_model(resolve(SETTINGS)).double()
    orig = ConvTextModel(vocab_size=256, num_layers=6, num_channels=64, kernel_size=9, norm=None,
                         activation="gelu", residual=True).double()
    mine = [v for k, v in ours.state_dict().items()]
    theirs = [k for k in orig.state_dict() if not k.startswith("lm_head")]  # tied to the embedding
    assert len(mine) == len(theirs)
    orig.load_state_dict(dict(zip(theirs, mine)), strict=False)
    return ours, orig


def test_validation_set_is_the_original_generators():
    _, Dataset = original()
    theirs = [text for text, _ in Dataset(count=10000, num_items=10, area=40, seed=23, with_masked=True)]
    assert validation_set(resolve(SETTINGS)).strings() == theirs


def test_same_weights_same_outputs_and_gradients():
    ours, orig = models()
    target, masked = to_batch(validation_set(resolve(SETTINGS)).take(slice(0, 64)), "cpu")
    assert (ours(masked) - orig(masked)).abs().max() < 1e-9
    g1 = torch.autograd.grad(original_loss(ours, target, masked), list(ours.parameters()))
    g2 = torch.autograd.grad(original_loss(orig, target, masked), list(orig.parameters()))
    assert max((a - b).abs().max().item() for a, b in zip(g1, g2)) < 1e-9


def test_lock_step_training_stays_together():
    """The same batches through AdamW: after 20 steps the weights agree to float64 rounding."""
    ours, orig = models()
    lock_step(ours, orig, resolve(SETTINGS), original_loss)
    assert max((a - b).abs().max().item() for a, b in zip(ours.parameters(), orig.parameters())) < 1e-9
