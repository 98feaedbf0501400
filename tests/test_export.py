"""TensorBoard export: every run's curve comes back from the event files."""
import pandas as pd
import pytest
from conftest import ROOT

from vslm.cli import main
from vslm.config import load
from vslm.experiments import all_runs


def test_tensorboard_export_round_trip(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert main(["export", "tensorboard", "--out", str(tmp_path), "--config", str(ROOT / "config.yaml"),
                 "--only", "C-T2"]) == 0
    keys = all_runs({"C-T2": load(ROOT / "config.yaml")["C-T2"]})
    folders = list((tmp_path / "C-T2").iterdir())
    assert len(folders) == len(keys) == 10 and "10 runs written" in capsys.readouterr().out
    folder = folders[0]
    key = folder.name.split()[-1]
    events = EventAccumulator(str(folder))
    events.Reload()
    curve = pd.read_csv(ROOT / "results" / "runs" / key / "curve.csv")
    validation = curve[curve["split"] == "validation"]
    got = events.Scalars("validation_sample_error%")
    assert [e.step for e in got] == list(validation["samples"])
    assert [e.value for e in got] == pytest.approx(list(validation["sample_error%"]), rel=1e-6)


def test_unknown_experiment_is_one_line(capsys):
    assert main(["export", "tensorboard", "--config", str(ROOT / "config.yaml"), "--only", "X-T9"]) == 2
    assert "X-T9" in capsys.readouterr().err
