"""vslm against what the original's own code gives (tests/fixtures/original.json, recorded by
tests/original/record_fixtures.py from the original's modules): the same validation texts, and with
the same seed-0 weights the same logits, gradients and weights after 20 AdamW steps. A change of a
task or model that alters its numbers fails here, in every CI run, without the original's code."""
import json
from pathlib import Path

import pytest
import torch
from conftest import fidelity_facts, original_loss

from vslm.models import build_model
from vslm.settings import resolve
from vslm.tasks import validation_set

FACTS = json.loads((Path(__file__).resolve().parent / "fixtures" / "original.json").read_text())


@pytest.mark.parametrize("name", sorted(FACTS))
def test_vslm_gives_the_originals_numbers(name):
    recorded = FACTS[name]
    settings = resolve(recorded["settings"])
    torch.manual_seed(0)
    model = build_model(settings).double()
    ours = fidelity_facts(model, settings, validation_set(settings).strings(), original_loss)
    assert ours["validation_sha256"] == recorded["validation_sha256"]
    for key in ("logits", "grad_norms", "weight_sums"):
        mine, theirs = ours[key], recorded[key]
        if isinstance(theirs, dict):
            mine, theirs = [mine["sum"], mine["abs_sum"], *mine["first"]], [theirs["sum"], theirs["abs_sum"],
                                                                             *theirs["first"]]
        assert len(mine) == len(theirs)
        assert mine == pytest.approx(theirs, rel=1e-7, abs=1e-9), key


def test_the_check_fails_when_a_model_changes():
    """A model whose weights move by one part in a million no longer gives the recorded logits."""
    from vslm.train import to_batch

    recorded = FACTS["selcopy conv l6"]["logits"]
    settings = resolve(FACTS["selcopy conv l6"]["settings"])
    torch.manual_seed(0)
    model = build_model(settings).double()
    with torch.no_grad():
        next(model.parameters()).mul_(1 + 1e-6)
    _, masked = to_batch(validation_set(settings).take(slice(0, 64)), "cpu")
    logits = model(masked)
    assert [logits.sum().item(), logits.abs().sum().item()] != pytest.approx(
        [recorded["sum"], recorded["abs_sum"]], rel=1e-7, abs=1e-9)
