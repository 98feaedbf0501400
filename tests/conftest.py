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


def lock_step(ours, orig, settings: dict, loss, steps: int = 20) -> None:
    """Train both models on the same `steps` training batches of `settings` through AdamW (the
    original's optimizer)."""
    import torch

    from vslm.tasks import train_stream, validation_set
    from vslm.train import to_batch

    batches = train_stream(settings, validation_set(settings)).epoch(0)
    opts = [torch.optim.AdamW(m.parameters(), lr=5e-4, weight_decay=0.01) for m in (ours, orig)]
    for step in range(steps):
        target, masked = to_batch(batches.take(slice(64 * step, 64 * step + 64)), "cpu")
        for model, opt in zip((ours, orig), opts):
            opt.zero_grad()
            loss(model, target, masked).backward()
            opt.step()
