"""Side by side with the code of the original's corrected attention runs (C-T1..C-T3,
defgsus/nn-experiments @0bc4638, 2024-12-21): its QA-program generator and ConvTextModel with
linear attention, imported from that commit's files in `$VSLM_ORIGINAL/0bc4638`. Skipped elsewhere.

    mkdir -p /tmp/orig/0bc4638
    git -C nn-experiments archive 0bc4638 experiments/textmask/textmodel.py src/models/attention.py \\
        src/datasets/generative/text_gen.py src/datasets/base_iterable.py src/models/util.py \\
        src/util/params.py | tar -x -C /tmp/orig/0bc4638
    VSLM_ORIGINAL=/tmp/orig python3 -m pytest tests/original
"""
import pytest
import torch
from conftest import has_original, import_original, lock_step, original_loss

from vslm.models import build_model
from vslm.settings import resolve
from vslm.tasks import validation_set
from vslm.train import to_batch

pytestmark = pytest.mark.skipif(not has_original("0bc4638", "src/models/attention.py"),
                                reason="VSLM_ORIGINAL has no 0bc4638/ with the original's attention code")
# C-T2's cells (config.yaml: ops3 with attn 0,0,T)
SETTINGS = dict(task="program", nitem=26, len=5, nops="1,3", operators="swap", format="tight", model="conv",
                l=3, ch=64, ks=13, dil="3,5,1", qkv="QK", attn="0,0,T", **{"val-nops": 3})


def original():
    """The original's ConvTextModel and QA-program generator (0bc4638)."""
    textmodel, text_gen = import_original("0bc4638", "experiments.textmask.textmodel",
                                          "src.datasets.generative.text_gen")
    return textmodel.ConvTextModel, text_gen.TextQAProgramIterableDataset


def models(attnact: str):
    """Ours and the original's model (as its yml builds it) with the same (our) initial weights, in
    float64."""
    ConvTextModel, _ = original()
    torch.manual_seed(0)
    ours = build_model(resolve(dict(SETTINGS, attnact=attnact))).double()
    orig = ConvTextModel(vocab_size=256, num_layers=3, num_channels=64, kernel_size=13, dilation=[3, 5, 1],
                         activation="gelu", num_attention_heads=[0, 0, True], attention_invention="QK",
                         attention_activation=attnact).double()
    theirs = [k for k in orig.state_dict() if not k.startswith("lm_head")]  # tied to the embedding
    orig.load_state_dict(dict(zip(theirs, ours.state_dict().values(), strict=True)), strict=False)
    return ours, orig


def test_validation_set_is_the_original_generators():
    _, Dataset = original()
    theirs = [text for text, _ in Dataset(count=10000, seed=23, with_masked=True, num_items=26, input_length=5,
                                          num_operations=3, operators={">": 1})]
    assert validation_set(resolve(SETTINGS)).strings() == theirs


@pytest.mark.parametrize("attnact", ["elu+1", "dpfp"])
def test_same_weights_same_outputs_and_gradients(attnact):
    ours, orig = models(attnact)
    target, masked = to_batch(validation_set(resolve(SETTINGS)).take(slice(0, 64)), "cpu")
    assert (ours(masked) - orig(masked)).abs().max() < 1e-9
    g1 = torch.autograd.grad(original_loss(ours, target, masked), list(ours.parameters()))
    g2 = torch.autograd.grad(original_loss(orig, target, masked), list(orig.parameters()))
    assert max((a - b).abs().max().item() for a, b in zip(g1, g2, strict=True)) < 1e-9


@pytest.mark.parametrize("attnact", ["elu+1", "dpfp"])
def test_lock_step_training_stays_together(attnact):
    """The same batches through AdamW: after 20 steps the weights agree to float64 rounding."""
    ours, orig = models(attnact)
    lock_step(ours, orig, resolve(dict(SETTINGS, attnact=attnact)), original_loss)
    assert max((a - b).abs().max().item() for a, b in zip(ours.parameters(), orig.parameters(), strict=True)) < 1e-9
