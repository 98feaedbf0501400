"""Shared test helpers."""
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_pipeline(dst: Path) -> Path:
    """The pipeline's own files (Snakefile, profiles link, workflow/, reference/) in `dst`."""
    dst.mkdir(parents=True, exist_ok=True)
    for d in ("workflow", "reference"):
        shutil.copytree(ROOT / d, dst / d)
    shutil.copy(ROOT / "Snakefile", dst / "Snakefile")
    os.symlink("workflow/profiles", dst / "profiles")
    return dst


def import_original(commit: str, *modules: str) -> list:
    """The named modules of the original (defgsus/nn-experiments) from the folder
    `$VSLM_ORIGINAL/<commit>` that holds that commit's files, imported apart from any other
    commit's (its `experiments` and `src` packages are cleared before and after); torchvision,
    imported there but unused here, is stubbed."""
    import importlib
    import sys
    from unittest.mock import MagicMock

    for name in ("torchvision", "torchvision.transforms", "torchvision.transforms.functional"):
        sys.modules.setdefault(name, MagicMock())

    def clear():
        for name in [n for n in sys.modules if n.split(".")[0] in ("experiments", "src")]:
            del sys.modules[name]

    folder = str(Path(os.environ["VSLM_ORIGINAL"], commit))
    clear()
    sys.path.insert(0, folder)
    try:
        return [importlib.import_module(m) for m in modules]
    finally:
        sys.path.remove(folder)
        clear()


def has_original(commit: str, file: str) -> bool:
    """Whether `$VSLM_ORIGINAL/<commit>` holds `file` (the side-by-side tests skip otherwise)."""
    root = os.environ.get("VSLM_ORIGINAL")
    return bool(root) and Path(root, commit, file).exists()


def original_loss(model, target, masked):
    """The original trainer's loss (b2aaaf4 and 0bc4638 alike): CE against one-hot targets over all
    positions, in float64."""
    import torch.nn.functional as F

    return F.cross_entropy(model(masked).view(-1, 256), F.one_hot(target, 256).view(-1, 256).double())


def lock_step(ours, orig, settings: dict, loss, steps: int = 20) -> None:
    """Train both models on the same `steps` training batches of `settings` through AdamW (the
    original's optimizer)."""
    train_steps([ours, orig], settings, loss, steps)


def train_steps(models: list, settings: dict, loss, steps: int = 20) -> None:
    """`steps` AdamW steps of every model on the same training batches of `settings` (seed 0)."""
    import torch

    from vslm.tasks import train_stream, validation_set
    from vslm.train import to_batch

    batches = train_stream(settings, validation_set(settings)).epoch(0)
    opts = [torch.optim.AdamW(m.parameters(), lr=5e-4, weight_decay=0.01) for m in models]
    for step in range(steps):
        target, masked = to_batch(batches.take(slice(64 * step, 64 * step + 64)), "cpu")
        for model, opt in zip(models, opts):
            opt.zero_grad()
            loss(model, target, masked).backward()
            opt.step()


def fidelity_facts(model, settings: dict, strings: list[str], loss) -> dict:
    """What the side-by-side tests establish, as numbers one model gives alone (float64): the hash of
    the validation texts, its logits and gradients on the first 64 of them, and its weights after 20
    AdamW steps. tests/original/record_fixtures.py records them from the original's code;
    tests/test_fidelity.py checks vslm against them."""
    import hashlib

    import torch

    from vslm.tasks import validation_set
    from vslm.train import to_batch

    target, masked = to_batch(validation_set(settings).take(slice(0, 64)), "cpu")
    logits = model(masked)
    grads = torch.autograd.grad(loss(model, target, masked), list(model.parameters()))
    train_steps([model], settings, loss)
    return {"validation_sha256": hashlib.sha256("\n".join(strings).encode()).hexdigest(),
            "logits": {"sum": logits.sum().item(), "abs_sum": logits.abs().sum().item(),
                       "first": logits.flatten()[:8].tolist()},
            "grad_norms": [g.norm().item() for g in grads],
            "weight_sums": [p.sum().item() for p in model.parameters()]}
