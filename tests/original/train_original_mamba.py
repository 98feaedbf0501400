"""Train the original's Mamba class inside `vslm train`: the same settings, initial weights,
batches, schedule and validation as the vslm run of those settings, only the model class differs.
Resumable like any run (its checkpoint holds the original class's weights). Prints the validation
rows of both runs side by side when a finished vslm run of the same key is in results/runs.

    mkdir -p /tmp/orig/193ed2c   # the layout of tests/original; needs einops
    git -C nn-experiments archive 193ed2c src/models/mamba | tar -x -C /tmp/orig/193ed2c
    VSLM_ORIGINAL=/tmp/orig python3 tests/original/train_original_mamba.py OUT [key=value ...]

OUT must lie outside results/runs: its metrics.json carries the vslm run's key.
"""
import csv
import os
import sys
from pathlib import Path

import torch

from vslm import train
from vslm.models import build_model
from vslm.settings import parse_assignments, resolve, run_key

# The cpu scale's S2-T4 Mamba row (run 8d915409f604), cut at 300k samples of its 1M schedule.
ROW = dict(task="program", nops="2,5", model="mamba", l=6, ch=32, d_state=16, seed=1, threads=1,
           samples=1_000_000, **{"val-nops": 5})


def original_mamba(settings: dict) -> torch.nn.Module:
    """The original class with the weights vslm's own model starts from (built first, same seed)."""
    from src.models.mamba.mamba import Mamba, ModelArgs

    ours = build_model(settings)
    orig = Mamba(ModelArgs(d_model=settings["ch"], n_layer=settings["l"], d_state=settings["d_state"],
                           expand=2, vocab_size=256))
    orig.load_state_dict(ours.state_dict(), strict=False)  # same names; lm_head is tied to the embedding
    return orig


def validation_rows(path: Path) -> dict:
    with open(path) as f:
        return {int(r["samples"]): r for r in csv.DictReader(f) if r["split"] == "validation"}


def main(out: str, *assignments: str) -> None:
    sys.path.insert(0, str(Path(os.environ["VSLM_ORIGINAL"], "193ed2c")))
    given = dict(ROW, **{"sched-samples": ROW["samples"], "samples": 300_000})
    settings = resolve(dict(given, **parse_assignments(assignments)))
    train.build_model = original_mamba
    train.run(settings, Path(out))
    ours = Path("results/runs") / run_key(dict(settings, samples=settings["sched-samples"])) / "curve.csv"
    theirs = validation_rows(Path(out) / "curve.csv")
    mine = validation_rows(ours) if ours.exists() else {}
    print("samples  loss (original class / vslm)  mask error % (original class / vslm)")
    for n, r in theirs.items():
        m = mine.get(n, {})
        loss, err = m.get("loss", "-"), m.get("mask_error%", "-")
        print(f"{n:>8}  {r['loss']:>10} / {loss:<10}  {r['mask_error%']:>8} / {err}")


if __name__ == "__main__":
    main(*sys.argv[1:])
