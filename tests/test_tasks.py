"""Task generators: the original's validation sets exactly, the fast stream's distribution, the checker."""
import collections
import re

import numpy as np
import pytest

from vslm.cli import main
from vslm.settings import SettingsError, resolve
from vslm.tasks import TrainStream, check_answer, make_task, train_stream, validation_set
from vslm.tasks.base import encode

PRELIM = dict(task="program", len="2,5", nops="1,5", operators="all", format="loose")


def first(raw, n):
    s = resolve(raw)
    return make_task(s, "validation").python_samples(n, seed=23).strings()


@pytest.mark.parametrize("raw, expected", [
    (dict(task="selcopy"), [" C   B  J         AE  I G  F     H   D  : CBJAEIGFHD",
                            "DH   JI     A E  B          CG         F: DHJIAEBCGF",
                            " CIG         H        F   BE   AD    J  : CIGHFBEADJ"]),
    (dict(task="selcopy", area=80),
     ["  C       B     J                    A E     I  G     F            H       D    : CBJAEIGFHD"]),
    (PRELIM, ["CFUR: 4>2: CRUF ", "DAQ: 3>1, 1>2, 1>3, 3>1, 2>3: ADQ  ", "TQWUH: 4>3, 2>5: THUWQ",
              "MY: 2>1, 2>1, 1>2, 2>1, 2>1: YM   ", "JYR: 1>3, 3>2, 3>2, -2, -2: R    "]),
    (dict(task="program", nops=5), ["XBFVU:3>4 1>4 1>2 1>5 5>3:UFBXV", "IAHZX:4>2 4>1 5>3 2>3 4>5:AXZHI",
                                    "RWJFZ:5>3 2>3 3>1 2>4 2>3:WRFZJ"]),
    (dict(task="program", nops=3), ["XBFVU:3>4 1>4 1>2:BFVXU", "QHGYE:4>5 3>1 3>2:GQHEY",
                                    "TQWUH:4>3 2>5 4>1:WHUTQ"]),
    (dict(task="program", nops=4), ["XBFVU:3>4 1>4 1>2 1>5:UFVXB", "DTLYC:3>1 3>2 3>4 4>2:LTYDC"]),
    (dict(task="program", nops=2), ["XBFVU:3>4 1>4:FBVXU", "DAQBG:5>2 4>2:DBQGA"]),
])
def test_reference_validation_samples(raw, expected):
    assert first(raw, len(expected)) == expected


def test_validation_only_settings():
    s = resolve(dict(task="program", nops="2,5", **{"val-nops": 5}))
    assert validation_set(s).strings()[:1] == ["XBFVU:3>4 1>4 1>2 1>5 5>3:UFBXV"]
    assert make_task(s, "train").p["nops"] == [2, 5]


def test_preliminary_validation_statistics():
    texts = validation_set(resolve(PRELIM)).strings()
    assert len(texts) == len(set(texts)) == 10_000
    assert sum(t.endswith(": " + " " * 5) for t in texts) == 599
    counts = collections.Counter(len(re.findall(r"\d+>\d+|[-+]\d+", t.split(":")[1])) for t in texts)
    assert dict(counts) == {1: 1919, 2: 2219, 3: 2067, 4: 1920, 5: 1875}


@pytest.mark.parametrize("raw", [dict(task="selcopy"), dict(task="selcopy", area=80, nitem=12),
                                 dict(task="program", nops=5), PRELIM,
                                 dict(task="program", len="3,5", nops="0,4", operators="all"),
                                 dict(task="program", nitem=26, len=12, nops=3)])
def test_fast_generator_texts_are_correct(raw):
    s = resolve(raw)
    task = make_task(s)
    batch = task.numpy_texts(np.random.default_rng(0), 3000)
    texts = batch.strings()
    assert all(check_answer(s["task"], t) for t in texts)
    assert batch.length.max() <= task.max_length == batch.text.shape[1]
    masked = batch.masked()
    for row, n in zip(masked[:50], batch.length[:50]):  # the mask covers exactly the answer field
        assert (row[:n] == 0).sum() == task.answer_width and (row[n - task.answer_width:n] == 0).all()


def test_checker_rejects_wrong_answers():
    assert check_answer("program", "XBFVU:3>4 1>4 1>2:BFVXU")
    assert not check_answer("program", "XBFVU:3>4 1>4 1>2:BFVUX")
    assert check_answer("program", "JYR: 1>3, 3>2, 3>2, -2, -2: R    ")
    assert not check_answer("selcopy", " C   B  J         AE  I G  F     H   D  : CBJAEIGFDH")


@pytest.mark.parametrize("raw", [PRELIM, dict(task="program", nops="1,3"), dict(task="selcopy")])
def test_fast_generator_matches_original_distribution(raw):
    """Op counts, answer lengths and letter positions: python reference vs numpy stream, 20k
    de-duplicated samples each (no validation set to exclude, so both see the same rules)."""
    s = resolve(raw)
    task = make_task(s)
    py = task.python_samples(20_000, seed=1)
    nothing = encode([], task.max_length, task.answer_width)
    fast = TrainStream(task, nothing, seed=1, epoch=20_000).epoch(0)

    def features(samples):
        texts = samples.strings()
        if s["task"] == "selcopy":
            return collections.Counter(t.index("A") // 10 for t in texts)
        return collections.Counter((len(re.findall(r"\d+>\d+|[-+]\d+", t.split(":")[1])),
                                    len(t.split(":")[-1].strip())) for t in texts)

    a, b = features(py), features(fast)
    for k in set(a) | set(b):
        pa, pb = a[k] / 20_000, b[k] / 20_000
        assert abs(pa - pb) < 4 * np.sqrt(max(pa, 1e-4) / 20_000) + 2e-3, (k, pa, pb)


def test_train_stream_excludes_validation_and_repeats():
    s = resolve(dict(task="program", len=3, nops=1, epoch=3000, **{"val-count": 1000}))
    val = validation_set(s)
    stream = train_stream(s, val)
    epoch = stream.epoch(0).strings()
    assert len(epoch) == len(set(epoch)) == 3000
    assert not set(epoch) & set(val.strings())
    assert stream.epoch(0).strings() == epoch  # reproducible from (seed, epoch)
    assert stream.epoch(1).strings() != epoch
    other = train_stream(resolve(dict(s, seed=1)), val).epoch(0).strings()
    assert other != epoch


@pytest.mark.parametrize("raw, key", [
    (dict(task="program", len=1, nops=2), "len"),
    (dict(task="program", len=2, nops=1), "epoch"),
    (dict(task="program", nitem=30), "nitem"),
    (dict(task="program", len=6, nitem=5), "len"),
    (dict(task="selcopy", nitem=20, area=10), "nitem"),
    (dict(task="program", nops="5,2"), "nops"),
    (dict(task="program", **{"val-len": 1}), "val-len"),
    (dict(task="selcopy", nops=3), "nops"),
    (dict(task="program", operators="stack"), "operators"),
])
def test_impossible_settings_name_the_key(raw, key):
    with pytest.raises(SettingsError) as e:
        resolve(raw)
    assert e.value.key == key and key in str(e.value)


def test_cli_sample(capsys):
    assert main(["sample", "program", "nops=5", "-n", "2", "--split", "validation"]) == 0
    assert capsys.readouterr().out.splitlines() == ["XBFVU:3>4 1>4 1>2 1>5 5>3:UFBXV",
                                                   "IAHZX:4>2 4>1 5>3 2>3 4>5:AXZHI"]
    assert main(["sample", "selcopy", "-n", "3", "--masked"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.endswith(": " + "_" * 10) for line in lines)
    assert main(["sample", "program", "len=1"]) == 2
    assert "len=1" in capsys.readouterr().err


def test_cli_score(tmp_path, capsys):
    f = tmp_path / "out.txt"
    f.write_text("XBFVU:3>4 1>4 1>2:BFVXU\nXBFVU:3>4 1>4 1>2:BFVUX\nnot a program\n")
    assert main(["score", "program", str(f), "--show-wrong"]) == 0
    out = capsys.readouterr().out
    assert "3 texts, 1 right, 2 wrong" in out and "wrong: XBFVU:3>4 1>4 1>2:BFVUX" in out
