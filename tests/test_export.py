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
    assert len(folders) == len(keys) and f"{len(keys)} runs written" in capsys.readouterr().out
    folder = folders[0]
    key = folder.name.split()[-1]
    events = EventAccumulator(str(folder))
    events.Reload()
    curve = pd.read_csv(ROOT / "results" / "runs" / key / "curve.csv")
    validation = curve[curve["split"] == "validation"]
    got = events.Scalars("validation/sample_error%")
    assert [e.step for e in got] == list(validation["samples"])
    assert [e.value for e in got] == pytest.approx(list(validation["sample_error%"]), rel=1e-6)
    times = [e.wall_time for e in got]  # the run's own training time, not the export's
    train_time = validation["train_time_s"]
    assert times[-1] - times[0] == pytest.approx(train_time.iloc[-1] - train_time.iloc[0], abs=1e-3)
    assert "train/loss" in events.Tags()["scalars"]
    hparams = events.summary_metadata  # the HParams plugin's session data
    assert any(m.plugin_data.plugin_name == "hparams" for m in hparams.values())


def test_unknown_experiment_is_one_line(capsys):
    assert main(["export", "tensorboard", "--config", str(ROOT / "config.yaml"), "--only", "X-T9"]) == 2
    assert "X-T9" in capsys.readouterr().err
