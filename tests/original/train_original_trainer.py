"""Train one cell with the original's own code end to end: its yml, its runner's glue
(`src/train/experiment.py`: matrix, yml code, DataLoader, optimizer, scheduler), its data classes,
ConvTextModel and TextMaskTrainer, at a commit of defgsus/nn-experiments: c83fed2 for the S1
dilation runs (the trainer is unchanged from b2aaaf4), f8dc19c for S2-T8 (the commit whose
5ops-attn-pos yml lists its patterns; its model and trainer are those of 613064a). Nothing of vslm
is used. The original sets no seed; this script seeds python's `random` and torch with SEED before
anything is built, so a trial is repeatable. One thread, on the CPU. The result is a run directory
under OUT:

    provenance.json  the original's commit, yml, matrix entry, the keys set apart from the yml, seed,
                     torch, CPU, times
    snapshot.json    the original trainer's own result record (validation loss, scalars)
    curve.csv        every validation the trainer logged (samples, loss, mask error %)

    mkdir -p /tmp/orig/c83fed2-full
    git -C nn-experiments archive c83fed2 src experiments/textmask | tar -x -C /tmp/orig/c83fed2-full
    VSLM_ORIGINAL=/tmp/orig python3 tests/original/train_original_trainer.py OUT COMMIT YML SEED key=value
    # e.g. OUT c83fed2 experiments/textmask/convtext-selcopy-dilation.yml 1 'dil=[1, 2, 3, 4, 5, 1]'
    # S2-T8 has no yml of its own: the 3-ops attention-position yml with its matrix set to the cell
    # f8dc19c experiments/textmask/qa-program/convtext-qa-program-3ops-attn-pos.yml 1 trial=1 l=5 \
    #     'dil=[2, 3, 4, 5, 1]' 'attn=[True, 0, True, 0, True]'

`key=value` (YAML values) sets that matrix key to the one value (provenance.json names the keys
whose value is not among the yml's); the matrix must then hold exactly one entry. OUT must not exist
yet, or hold a finished run (then nothing is done). Interrupted, the trainer resumes from its own
checkpoint (its behaviour: it loads `best.pt` first), and provenance.json says so.
"""
import ast
import csv
import json
import os
import platform
import random
import sys
import time
import types
from pathlib import Path
from unittest.mock import MagicMock

import torch
import yaml

COMMITS = {"c83fed2": "c83fed2387e373db532d4cb8802cfaaff4f3cb15", "f8dc19c": "f8dc19ce3fb62dce5b78c5238145bbcdae2c1bf8"}


def load_original(root: Path):
    """The original's runner functions (experiment.py's defs, run in a namespace that holds what its
    yml code needs) without its star imports of every model and dataset, most of which no longer
    import with torch 2.13; torchvision and the font renderer (TensorBoard images only) are stubbed."""
    for name in ("torchvision", "torchvision.models", "torchvision.transforms",
                 "torchvision.transforms.functional", "torchvision.utils"):
        sys.modules.setdefault(name, MagicMock())
    sys.path.insert(0, str(root))
    for pkg in ("src.datasets", "src.datasets.generative", "src.train"):  # their __init__ imports all
        module = types.ModuleType(pkg)
        module.__path__ = [str(root / pkg.replace(".", "/"))]
        sys.modules[pkg] = module
    from src.train.trainer import Trainer

    sys.modules["src.train"].Trainer = Trainer
    import src.util

    src.util.FontSquares = MagicMock  # renders TensorBoard images from a font file that is not here
    Trainer.save_weight_image = Trainer.log_image = lambda *args, **kwargs: None  # images need torchvision
    from src.datasets.generative.text_gen import TextQAProgramIterableDataset, TextSelectiveCopyingIterableDataset
    from src.util.params import iter_parameter_permutations

    source = (root / "src/train/experiment.py").read_text()
    tree = ast.parse(source)
    def kept(node) -> bool:  # definitions, and the imports of the stdlib, torch, yaml, pandas, tqdm
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            return all(n.split(".")[0] not in ("src", "experiments", "torchvision") for n in names)
        return isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Assign)

    tree.body = [n for n in tree.body if kept(n)]
    namespace = dict(__name__="original_experiment", __file__=str(root / "src/train/experiment.py"),
                     Trainer=Trainer, TextSelectiveCopyingIterableDataset=TextSelectiveCopyingIterableDataset,
                     TextQAProgramIterableDataset=TextQAProgramIterableDataset,
                     iter_parameter_permutations=iter_parameter_permutations)
    exec(compile(tree, str(root / "src/train/experiment.py"), "exec"), namespace)
    return namespace


def cpu_name() -> str:
    """The CPU's model name and family (machines of one kind differ: docs/performance.md)."""
    try:
        info = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in
                                                Path("/proc/cpuinfo").read_text().splitlines()[:30] if ":" in line)}
        return f"{info['model name']} (family {info['cpu family']})"
    except (OSError, KeyError):
        return platform.processor() or platform.machine()


def pick(orig: dict, matrix: dict, wanted: dict) -> dict:
    """The one entry of `matrix` with each wanted key set to its value."""
    found = orig["get_matrix_entries"]({**matrix, **{k: [v] for k, v in wanted.items()}})
    if len(found) != 1:
        raise SystemExit(f"{len(found)} matrix entries match {wanted}")
    return found[0]


def curve(events: Path) -> list:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events)).Reload()
    tags = [t for t in acc.Tags()["scalars"] if t.startswith("validation_")]
    rows = {}
    for tag in tags:
        for e in acc.Scalars(tag):
            rows.setdefault(e.step, {"samples": e.step})[tag.removeprefix("validation_")] = e.value
    return [rows[s] for s in sorted(rows)]


def main(out: str, commit: str, yml: str, seed: str, *choices: str) -> None:
    out = Path(out)
    if (out / "snapshot.json").exists():
        print(f"{out} is finished")
        return
    random.seed(int(seed))
    torch.manual_seed(int(seed))
    torch.set_num_threads(1)
    root = Path(os.environ.get("VSLM_ORIGINAL", "/tmp/orig"), f"{commit}-full")
    orig = load_original(root)
    wanted = {k: yaml.safe_load(v) for k, v in (c.split("=", 1) for c in choices)}
    matrix = orig["_load_yaml"](root / yml).pop("matrix")
    entry = pick(orig, matrix, wanted)
    data = orig["_load_yaml"](root / yml, entry)
    data.pop("matrix", None)
    data["experiment_name"] += f"_seed:{seed}"
    data.update(reset=False, device="cpu")
    klass, kwargs = orig["get_trainer_kwargs_from_dict"](data)
    trainer = klass(**kwargs)
    resumed = trainer.load_checkpoint("best") or trainer.load_checkpoint()  # as run_experiment does
    trainer.save_description()
    start = time.time()
    trainer.train()
    out.mkdir(parents=True, exist_ok=True)
    rows = curve(trainer.tensorboard_path)
    with open(out / "curve.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[-1]))
        w.writeheader()
        w.writerows(rows)
    (out / "provenance.json").write_text(json.dumps({
        "code": f"defgsus/nn-experiments@{COMMITS[commit]}", "yml": yml, "matrix_entry": entry,
        "set_apart_from_yml": sorted(k for k, v in wanted.items() if v not in matrix.get(k, [])), "seed": int(seed),
        "seeded": "random.seed(SEED) and torch.manual_seed(SEED) before the runner builds anything",
        "resumed": bool(resumed), "wall_time_s": round(time.time() - start, 1), "torch": torch.__version__,
        "threads": 1, "cpu": cpu_name(),
        "driver": "tests/original/train_original_trainer.py"}, indent=2) + "\n")
    snapshot = trainer.checkpoint_path / "snapshot.json"
    (out / "snapshot.json").write_text(snapshot.read_text())
    print(json.dumps({k: v for k, v in json.loads(snapshot.read_text()).items() if k != "model"}, indent=1)[:2000])


if __name__ == "__main__":
    main(*sys.argv[1:])
