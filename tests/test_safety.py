"""What a careless user or an attacker gets: outputs that follow exactly what they read, one-line
errors before any job, no raw HTML, nothing committed lost."""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import copy_pipeline

from vslm.config import load, read_config
from vslm.experiments import all_runs, load_config
from vslm.keys import ConfigError

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = yaml.safe_load((ROOT / "tests" / "fixtures" / "config.yaml").read_text())


def workdir(tmp_path: Path, cfg: dict = FIXTURE) -> Path:
    copy_pipeline(tmp_path)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return tmp_path


def dry_run(work: Path) -> tuple[int, set]:
    """-> (return code, {(rule, exp or key)} of the jobs Snakemake would run)."""
    out = subprocess.run(["snakemake", "-n", "--cores", "1"], cwd=work, capture_output=True, text=True,
                         timeout=120)
    jobs = set()
    for block in out.stdout.split("\n\n"):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.MULTILINE)
        wildcard = re.search(r"wildcards: (?:exp|key)=(\S+)", block)
        if rule:
            jobs.add((rule.group(1), wildcard.group(1) if wildcard else ""))
    return out.returncode, jobs if out.returncode == 0 else out.stderr


def pretend_built(work: Path, cfg: dict = FIXTURE) -> None:
    """Every run finished and every output built (after the spec files were written)."""
    import json

    for key in all_runs(load_config(cfg)):
        run = work / "results" / "runs" / key
        run.mkdir(parents=True, exist_ok=True)
        (run / "metrics.json").write_text(json.dumps({"run_key": key, "status": "failed", "error": "x"}))
        for name in ("curve.csv", "examples.png", "examples.txt"):
            (run / name).write_text("")
    subprocess.run(["snakemake", "-n", "--cores", "1"], cwd=work, capture_output=True, timeout=120)  # specs
    for out in ["results/judged.json", "results/plots/receptive-field.png", "results/plots/summary.png",
                "results/plots/summary.svg",
                *(f"results/{kind}/{exp}.{ext}" for exp in cfg["experiments"]
                  for kind, ext in (("tables", "md"), ("tables", "csv"), ("plots", "png"), ("plots", "svg"))),
                "report/article.md", "report/article.html"]:  # in the order a build writes them
        (work / out).parent.mkdir(parents=True, exist_ok=True)
        (work / out).write_text("")
    time.sleep(0.05)  # file times have a coarse clock: later edits must be visibly newer


def test_outputs_rebuild_exactly_on_what_they_read(tmp_path):
    work = workdir(tmp_path)
    pretend_built(work)
    assert dry_run(work) == (0, set())
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    # one job judges every row with every table's trials and references (workflow/verdicts.yaml);
    # every table, the summary and the article read its verdicts
    tables = {("judge", "")} | {("table", exp) for exp in FIXTURE["experiments"]} | {("summary", "")}
    cfg["experiments"]["S1-T1"]["title"] = "A new title"
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    assert dry_run(work) == (0, tables | {("plot", "S1-T1"), ("article", ""), ("all", "")})
    pretend_built(work, cfg)
    key = load_config(cfg)["S1-T1"].keys[0]  # a run's metrics change: the tables, its plot and the article
    (work / "results" / "runs" / key / "metrics.json").write_text(
        (work / "results" / "runs" / key / "metrics.json").read_text().replace('"x"', '"y"'))
    assert dry_run(work) == (0, tables | {("plot", "S1-T1"), ("article", ""), ("all", "")})
    pretend_built(work, cfg)
    with open(work / "reference" / "S2-T4.csv", "a") as f:  # the tables, its plot (the original's stars)
        f.write("\n")
    assert dry_run(work) == (0, tables | {("plot", "S2-T4"), ("article", ""), ("all", "")})
    pretend_built(work, cfg)
    with open(work / "workflow" / "verdicts.yaml", "a") as f:  # the rules: every table and the article
        f.write("\n")
    assert dry_run(work) == (0, tables | {("article", ""), ("all", "")})
    pretend_built(work, cfg)
    cfg["scales"]["other"] = dict(cfg["scales"]["smoke"])
    cfg["scale"] = "other"
    cfg["scales"]["other"]["settings"] = {**cfg["scales"]["other"]["settings"], "samples": 1024}
    schema = work / "workflow" / "schemas" / "config.schema.yaml"
    schema.write_text(schema.read_text().replace("smoke|cpu|claims|paper", "smoke|cpu|claims|paper|other")
                      .replace("[smoke, cpu, claims, paper]", "[smoke, cpu, claims, paper, other]"))
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    code, jobs = dry_run(work)  # another scale: its runs, every table and plot, the article
    assert code == 0 and {r for r, _ in jobs} == {"train", "judge", "table", "plot", "summary", "article", "all"}


def test_corrupt_committed_result_stops_before_any_job(tmp_path):
    work = workdir(tmp_path)
    pretend_built(work)
    key = next(iter(all_runs(load_config(FIXTURE))))
    metrics = work / "results" / "runs" / key / "metrics.json"
    metrics.write_text(metrics.read_text()[:20])
    tables = {p: p.read_text() for p in (work / "results" / "tables").iterdir()}
    out = subprocess.run(["snakemake", "--cores", "1"], cwd=work, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and f"results/runs/{key}/metrics.json is unreadable" in out.stderr
    assert f"delete results/runs/{key} to retrain it" in out.stderr
    assert {p: p.read_text() for p in (work / "results" / "tables").iterdir()} == tables


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["experiments"].update({"../../escaped": c["experiments"]["S1-T1"]}), "ids are 1-64 letters"),
    (lambda c: c["experiments"]["S1-T1"].update(reference="../config.csv"), "is not a file in reference/"),
    (lambda c: c["experiments"]["S1-T1"].update(reference="nope.csv"), "is not a file in reference/"),
    (lambda c: c["experiments"]["S1-T1"]["columns"].append("colour"), "'colour' is neither a setting"),
    (lambda c: c["experiments"]["S1-T1"].update(sort="nope-"), "'nope-' is not one of its columns"),
    (lambda c: c["experiments"]["S1-T1"].update(bogus=1), "bogus"),
])
def test_bad_config_is_one_line_before_any_job(tmp_path, edit, message):
    cfg = yaml.safe_load(yaml.safe_dump(FIXTURE))
    edit(cfg)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(cfg, root=ROOT)
    work = workdir(tmp_path, cfg)
    out = subprocess.run(["snakemake", "--cores", "1"], cwd=work, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and message in out.stderr
    assert not (work / "results").exists() and not (tmp_path.parent / "escaped.md").exists()


def test_duplicate_yaml_keys_and_one_run_with_two_devices_are_errors(tmp_path):
    text = (ROOT / "tests" / "fixtures" / "config.yaml").read_text()
    (tmp_path / "config.yaml").write_text(text + "scale: smoke\n")
    with pytest.raises(ConfigError, match="duplicate key 'scale'"):
        read_config(tmp_path / "config.yaml")
    cfg = yaml.safe_load(yaml.safe_dump(FIXTURE))
    s2 = cfg["experiments"]["S2-T4"]
    s2["cells"].append(dict(s2["cells"][0], device="cpu"))
    with pytest.raises(ConfigError, match="asked for with different execution settings"):
        all_runs(load_config(cfg))


def test_cli_config_errors_are_one_line(tmp_path, capsys):
    from vslm.cli import main

    (tmp_path / "config.yaml").write_text("scale: [unclosed\n")
    assert main(["plan", "--config", str(tmp_path / "config.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vslm: error: config file:") and "not valid YAML" in err and "\n" not in err


def test_raw_html_from_config_is_shown_as_text(tmp_path):
    from vslm.article import to_html

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "secret.png").write_bytes(b"\x89PNG secret")
    text = ("# <script>alert(1)</script>\n\n<img src=x onerror=alert(1)> [x](javascript:alert(1))\n\n"
            "![a](results/ok.png) ![b](secret.png) ![c](/etc/passwd)\n")
    page = to_html(text, tmp_path, [tmp_path / "results"])
    assert "<script>" not in page and "<img src=x" not in page and "javascript:" not in page
    assert page.count("data:image/png;base64,") == 1 and 'src=""' in page


@pytest.mark.slow
def test_non_editable_install_runs_the_pipeline(tmp_path):
    """`pip install .` (not editable): the jobs find the reference tables and section texts in the
    working tree, not in site-packages."""
    import site

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # the running environment's packages (a venv's or the system's) behind the new venv's own: listed
    # folders, whose .pth files (an editable vslm's finder among them) are not run
    (own,) = venv.glob("lib/python*/site-packages")
    (own / "outer.pth").write_text("\n".join(p for p in site.getsitepackages() if Path(p).is_dir()) + "\n")
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps",
                    str(ROOT)], check=True, timeout=300, capture_output=True)
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's own packages only
    where = subprocess.run([venv / "bin" / "python", "-c", "import vslm; print(vslm.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=clean).stdout
    assert str(venv) in where  # the installed copy, not the checkout
    work = workdir(tmp_path / "work")
    pretend_built(work)
    for out in ("results/tables", "results/plots", "report"):
        shutil.rmtree(work / out)
    (work / "results" / "judged.json").unlink()  # the judging job runs too
    env = {**clean, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    out = subprocess.run([venv / "bin" / "python", "-m", "snakemake", "--cores", "2"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "S2-T4" in (work / "report" / "article.md").read_text()


def test_result_without_its_fields_is_an_error_naming_the_run(tmp_path):
    from vslm.rundir import RunDirError, load_result

    run = tmp_path / "results" / "runs" / "0123456789ab"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text('{"run_key": "0123456789ab", "status": "done", "metrics": {}}')
    with pytest.raises(RunDirError, match="0123456789ab/metrics.json lacks validation_loss.*delete"):
        load_result("0123456789ab", tmp_path)


@pytest.mark.parametrize("content, message", [(None, "is a directory"), (b"\x00\x01binary", "binary file"),
                                              (b"\xff\xfe bad", "not UTF-8"), ("missing", "No such file")])
def test_score_bad_files_are_one_line(tmp_path, capsys, content, message):
    from vslm.cli import main

    path = tmp_path / "outputs.txt"
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path = tmp_path / "nope.txt"
    assert main(["score", "program", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


@pytest.mark.slow
def test_an_execution_setting_never_reruns_a_done_run(tmp_path):
    """With Snakemake's metadata present, a device added to a done cell's settings schedules no
    training: the run keeps its result (the device reaches jobs through results/specs/execution.json)."""
    cfg = yaml.safe_load(yaml.safe_dump(FIXTURE))
    cfg["experiments"] = {"S1-T1": cfg["experiments"]["S1-T1"]}
    cfg["experiments"]["S1-T1"]["grid"]["l"] = [6]
    work = workdir(tmp_path, cfg)
    built = subprocess.run(["snakemake", "--cores", "1", "--resources", "gpu=1"], cwd=work, capture_output=True,
                           text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (key,) = all_runs(load_config(cfg))
    metrics = (work / "results" / "runs" / key / "metrics.json").read_text()
    cfg["experiments"]["S1-T1"]["base"]["device"] = "cuda"  # no CUDA here: a rerun would fail the run
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    rc, jobs = dry_run(work)
    assert rc == 0 and not [j for j in jobs if j[0] == "train"], jobs
    assert (work / "results" / "runs" / key / "metrics.json").read_text() == metrics


def test_bf16_without_its_instructions_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    import torch

    from vslm.cli import main

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    rc = main(["train", "--out", str(tmp_path / "run"), "--set", "task=program", "model=lstm", "precision=bf16",
               "samples=64", "val-count=64", "device=cpu"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "precision" in err and "bf16" in err and "fp32" in err


def test_a_training_failure_is_one_line_with_the_traceback_kept(tmp_path, capsys, monkeypatch):
    from vslm import train
    from vslm.cli import main

    def broken(self, progress):
        raise RuntimeError("could not create a primitive descriptor")

    monkeypatch.setattr(train.Run, "train", broken)
    out = tmp_path / "run"
    rc = main(["train", "--out", str(out), "--set", "task=selcopy", "l=1", "ch=8", "samples=64", "val-count=64"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "primitive descriptor" in err and "error.log" in err
    assert "Traceback" in (out / "error.log").read_text()


@pytest.mark.parametrize("command", ["draft", "export"])
@pytest.mark.parametrize("folder", ["report", "results", "results/tables", ".", ".."])
def test_draft_and_export_refuse_the_pipeline_outputs(tmp_path, capsys, folder, command):
    from vslm.cli import main

    work = workdir(tmp_path / "w")
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    args = ["export", "tensorboard"] if command == "export" else ["draft"]
    assert main([*args, "--config", str(work / "config.yaml"), "--out", str(work / folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "overwrite the pipeline's outputs" in err
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before


def test_a_symlinked_run_directory_is_refused(tmp_path):
    from vslm.rundir import RunDirError, owned

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "abc").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunDirError, match="symbolic link"):
        with owned(tmp_path / "runs" / "abc", "abc"):
            pass
    assert not list((tmp_path / "elsewhere").iterdir())


DONE = {"validation_loss": 0.1, "validation_mask_error%": 1.0, "validation_sample_error%": 2.0,
        "model_params": 1000, "train_time_s": 60.0}


@pytest.mark.parametrize("change, message", [
    ({"validation_loss": float("nan")}, "validation_loss = nan, not a finite number"),
    ({"validation_loss": float("inf")}, "not a finite number"),
    ({"validation_loss": None}, "lacks validation_loss"),
    ({"validation_loss": "abc"}, "validation_loss = 'abc'"),
    ({"model_params": [1]}, "model_params = [1]"),
    ({"model_params": 10**400}, "not a finite number"),
    ({"model_params": True}, "not a finite number"),
])
def test_a_bad_metric_value_is_an_error_naming_the_run(tmp_path, change, message):
    import json

    from vslm.rundir import RunDirError, check_run

    run = tmp_path / "results" / "runs" / "0123456789ab"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"run_key": "0123456789ab", "status": "done",
                                                  "metrics": {**DONE, **change}}))
    (run / "curve.csv").write_text("samples,split,loss,mask_error%,sample_error%\n64,validation,1,2,3\n")
    with pytest.raises(RunDirError, match=re.escape(message)):
        check_run("0123456789ab", tmp_path)


@pytest.mark.parametrize("curve, message", [
    (b"\x89PNG\x00\xff\xfe", "not a CSV curve"), (b"", "not a CSV curve"),
    (b"samples,split,loss,mask_error%,sample_error%\n", "has no rows"),
    (b"samples,split,loss,mask_error%,sample_error%\n64,train,1,2,3\n", "no validation row"),
    (b"samples,split\n64,validation\n", "lacks the column(s) loss"),
    (b"samples,split,loss,mask_error%,sample_error%\n64,validation,x,2,3\n", "not numbers")])
def test_a_bad_curve_of_a_done_run_is_an_error_naming_it(tmp_path, curve, message):
    import json

    from vslm.rundir import RunDirError, check_run

    run = tmp_path / "results" / "runs" / "0123456789ab"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"run_key": "0123456789ab", "status": "done", "metrics": DONE}))
    (run / "curve.csv").write_bytes(curve)
    with pytest.raises(RunDirError, match=re.escape(message) + ".*delete"):
        check_run("0123456789ab", tmp_path)


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "<img src=x onerror=alert(1)>", "abc"])
def test_text_in_a_reference_metric_stops_the_dag_and_keeps_the_outputs(tmp_path, cell):
    work = workdir(tmp_path)
    pretend_built(work)
    ref = work / "reference" / "S1-T1.csv"
    lines = ref.read_text().splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[head.index("validation loss")] = f'"{cell}"' if "," in cell else cell
    ref.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    before = {p: p.read_bytes() for p in (work / "results" / "tables").iterdir()}
    out = subprocess.run(["snakemake", "--cores", "1"], cwd=work, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "S1-T1.csv column 'validation loss' row 2" in out.stderr
    assert {p: p.read_bytes() for p in (work / "results" / "tables").iterdir()} == before


def test_a_huge_reference_table_is_refused_fast(tmp_path):
    import time as clock

    from vslm.reference import MAX_REFERENCE_BYTES, read_reference

    path = tmp_path / "big.csv"
    path.write_text("a,validation loss\n" + "1,0.5\n" * (MAX_REFERENCE_BYTES // 6 + 10))
    start = clock.monotonic()
    with pytest.raises(ValueError, match="over the"):
        read_reference(path)
    assert clock.monotonic() - start < 5


BOMB = "".join(f"{a}: &{a} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['x'] * 9)}]\n"
               for p, a in zip([""] + list("abcdefghi"), "abcdefghij"))


@pytest.mark.parametrize("text, message", [
    (lambda cfg: cfg + "\n" + BOMB, "expands to over 100,000 values (YAML aliases)"),
    (lambda cfg: cfg + "\n#" + "x" * 1_100_000 + "\n", "over the 1,000,000-byte limit"),
    (lambda cfg: cfg.replace("scale: smoke", "scale: [smoke"), "not valid YAML at line"),
])
def test_a_config_past_its_limits_is_one_line_and_fast(tmp_path, text, message):
    work = workdir(tmp_path)
    (work / "config.yaml").write_text(text((work / "config.yaml").read_text()))
    start = time.monotonic()
    out = subprocess.run(["snakemake", "-n", "--cores", "1"], cwd=work, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and message in out.stdout + out.stderr
    assert time.monotonic() - start < 60
    from vslm.cli import main

    assert main(["plan", "--config", str(work / "config.yaml")]) == 2


def test_a_long_experiment_id_is_refused(tmp_path):
    cfg = yaml.safe_load(yaml.safe_dump(FIXTURE))
    cfg["experiments"]["X" * 300] = cfg["experiments"].pop("S1-T1")
    with pytest.raises(ConfigError, match="ids are 1-64 letters"):
        load(cfg, root=ROOT)


def test_counting_parameters_needs_no_training_data(capsys):
    from vslm.cli import main

    assert main(["params", "task=selcopy", "nitem=4"]) == 0  # too few distinct texts to train, not to count
    assert int(capsys.readouterr().out) > 0


def test_a_settings_file_that_is_not_utf8_is_one_line_naming_it(tmp_path, capsys):
    from vslm.cli import main

    bad = tmp_path / "settings.yaml"
    bad.write_bytes(b"samples: 3\n\xff\xfe")
    assert main(["train", str(bad), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert str(bad) in err and "not UTF-8" in err and "\n" not in err


def test_an_oversized_or_fake_png_is_not_inlined(tmp_path):
    from vslm.article import MAX_IMAGE_BYTES, to_html

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * MAX_IMAGE_BYTES)
    (tmp_path / "results" / "fake.png").write_bytes(b"<svg onload=alert(1)>")
    page = to_html("![a](results/big.png) ![b](results/fake.png)\n", tmp_path, [tmp_path / "results"])
    assert "data:image/png" not in page and len(page) < 10_000


def test_a_read_only_checkout_is_one_clear_line(tmp_path, monkeypatch):
    """Snakemake would fail creating .snakemake/ with a 50-line traceback; the Snakefile refuses first."""
    import errno
    import tempfile

    from vslm.checkout import check_writable
    from vslm.files import FileError

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(FileError, match=r"this checkout is not writable \(Read-only file system\).*writable clone"):
        check_writable(tmp_path)


def test_a_config_outside_a_checkout_is_one_line(tmp_path, capsys):
    from vslm.cli import main

    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    assert main(["plan", "--config", str(tmp_path / "config.yaml")]) == 2
    assert capsys.readouterr().err.strip() == (f"vslm: error: config file: {tmp_path} is not a vslm checkout (no "
                                               "workflow/schemas/config.schema.yaml): a config is read from the root "
                                               "of one")


@pytest.mark.parametrize("folder", ["results/tables", "report", "config.yaml"])
def test_train_refuses_a_folder_that_is_no_run_directory(tmp_path, capsys, folder):
    from vslm.cli import main

    work = workdir(tmp_path / "w")
    for made in ("results/tables/S1-T1.md", "report/article.md"):
        (work / made).parent.mkdir(parents=True)
        (work / made).write_text("committed\n")
    before = {p.relative_to(work): p.stat().st_mtime_ns for p in work.rglob("*")}
    rc = main(["train", "--out", str(work / folder), "--set", "task=selcopy", "l=1", "ch=8", "samples=64",
               "val-count=64"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and ("no run's" in err or "not a run directory" in err), err
    assert {p.relative_to(work): p.stat().st_mtime_ns for p in work.rglob("*")} == before


def test_oversized_inputs_of_the_command_line_are_one_line(tmp_path, capsys):
    from vslm.cli import main

    settings, outputs = tmp_path / "settings.yaml", tmp_path / "outputs.txt"
    settings.write_text("lr: 0.1\n" + "#" * 1_000_001 + "\n")
    outputs.write_text("a" * 10_000_001)
    assert main(["train", str(settings), "--out", str(tmp_path / "run")]) == 2
    assert main(["score", "program", str(outputs)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"vslm: error: {settings} is over 1,000,000 bytes",
                   f"vslm: error: {outputs} is over 10,000,000 bytes"]
    assert not (tmp_path / "run").exists()
