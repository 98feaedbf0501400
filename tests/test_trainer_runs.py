"""A run of the original's own code is matched to our cell through the registries' ORIGINAL_KEYS:
the matrix entries the driver (tests/original/train_original_trainer.py) records map to the
settings of our runs of the same cell, and to no other cell."""
import json
from pathlib import Path

import pytest

from vslm.trainer_runs import Rank, entry_settings, lucky_rank, nearer, original_runs

ROOT = Path(__file__).resolve().parent.parent

# the matrix entries as the original's runner builds them (provenance.json's matrix_entry)
S1_DIL = {"bs": 64, "opt": "AdamW", "lr": 0.0005, "nitem": 10, "area": 40, "l": 6, "ch": 64, "ks": 9,
          "dil": [1, 2, 3, 4, 5, 1], "norm": "None", "act": "gelu"}
S2_T8 = {"bs": 64, "opt": "AdamW", "lr": 0.0005, "nitem": 26, "len": 5, "nops": [1, 3], "vnops": 3, "l": 5,
         "ch": 64, "ks": 13, "dil": [2, 3, 4, 5, 1], "posemb": 0, "qkv": "QK", "attn": [True, 0, True, 0, True],
         "act": "gelu", "trial": 1}


def runs_matching(want: dict) -> set[str]:
    found = set()
    for path in (ROOT / "results" / "runs").glob("*/metrics.json"):
        s = json.loads(path.read_text())["settings"]
        if s["precision"] == "fp32" and all(s.get(k) == v for k, v in want.items()):
            found.add(s["samples"])
    return found


@pytest.mark.parametrize("entry, task, attn", [(S1_DIL, "selcopy", [0] * 6), (S2_T8, "program", ["T", 0, "T", 0, "T"])])
def test_an_entry_maps_to_our_settings(entry, task, attn):
    want = entry_settings(entry)
    assert want["task"] == task and want["model"] == "conv" and want["attn"] == attn
    assert runs_matching(want), "no run of ours has the settings of this entry"


def test_the_s2_t8_entry_names_its_validation_split():
    assert entry_settings(S2_T8)["val-nops"] == 3
    assert not runs_matching({**entry_settings(S2_T8), "val-nops": 5})  # S2-T9's cell is another one


def test_an_entry_no_task_fits_maps_to_nothing():
    assert entry_settings({"l": 6, "ch": 64}) is None  # no task's keys
    assert entry_settings({**S1_DIL, "ks": "wide"}) is None  # not a value of ours


def test_every_committed_original_run_is_read():
    folders = [p for p in (ROOT / "results" / "original-runs").glob("*/") if (p / "snapshot.json").exists()]
    runs = original_runs(ROOT)
    assert len(runs) == len(folders)
    assert all(entry_settings(r.entry) for r in runs)


def test_a_corrupt_original_run_is_left_out(tmp_path):
    bad = tmp_path / "results" / "original-runs" / "x"
    bad.mkdir(parents=True)
    (bad / "provenance.json").write_text("{not json")
    (bad / "snapshot.json").write_text("{}")
    assert original_runs(tmp_path) == []


def test_rank_and_nearer():
    cell = {"ours": [1.0, 2.0, 4.0], "here": [2.0, 8.0], "reported": [1.5]}
    assert lucky_rank(cell) == Rank(1, 5) and lucky_rank(cell).p == pytest.approx(2 / 6)
    to_ours, to_reported, which = nearer(cell)
    assert to_ours == pytest.approx(2.0) and to_reported == pytest.approx(4 / 1.5) and which == "ours"
    assert nearer({**cell, "here": [0.0, 8.0]}) is None  # a zero has no log
