"""config -> cells -> runs, tables with reference and pending rows, and the Snakemake DAG."""
import copy
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import copy_pipeline
from snakemake.utils import validate

from vslm.article import place_line, summary_line
from vslm.config import check_experiments
from vslm.curves import read_curve
from vslm.experiments import all_runs, load_config
from vslm.files import write_json
from vslm.judged import judge_tables
from vslm.keys import ConfigError
from vslm.rows import build_rows
from vslm.rundir import results_at
from vslm.tables import PARTNER, VERDICT, Table, mean_sd
from vslm.verdicts import Rules

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def judged(exp, rows) -> Table:
    """`exp`'s table with its rows judged (as the judging job judges them)."""
    return judge_tables({exp.name: exp}, {exp.name: rows}, Rules.load(ROOT / "workflow" / "verdicts.yaml"))[1][exp.name]


def config(**changes):
    c = copy.deepcopy(CONFIG)
    c.update(changes)
    return c


def test_config_is_valid_and_schema_rejects_bad_values():
    validate(config(), SCHEMA)
    with pytest.raises(ConfigError, match="scale: 'huge' is not one of the scales"):
        check_experiments(config(scale="huge"), ROOT)
    unknown = config()
    unknown["experiments"]["S1-T1"]["scales"]["huge"] = {}
    with pytest.raises(ConfigError, match="experiment S1-T1 scales: 'huge' is not one of the scales"):
        check_experiments(unknown, ROOT)
    bad = config()
    bad["experiments"]["S1-T1"]["trials"] = 0
    with pytest.raises(Exception, match="trials|minimum"):
        validate(bad, SCHEMA)


def test_bad_cell_setting_names_experiment_and_key():
    bad = config()
    bad["experiments"]["S2-T2"]["base"] = {**bad["experiments"]["S2-T2"]["base"], "ks": "nine"}
    with pytest.raises(ConfigError, match=r"S2-T2.*ks=nine"):
        load_config(bad)
    bad["experiments"]["S2-T2"]["base"] = {**bad["experiments"]["S2-T2"]["base"], "ks": 9, "samples": "lots"}
    with pytest.raises(ConfigError, match=r"config experiment S2-T2: setting samples=lots: expected an integer"):
        load_config(bad)


def test_grid_pairs_values_and_counts_trials():
    ex = load_config(config(), scale="paper")
    t2 = ex["S2-T2"]
    assert len(t2.cells) == 12
    assert {(c.values["l"], c.values["dil"]) for c in t2.cells} >= {(6, "1,2,3,4,5,1")}
    assert all(len(c.runs) == 10 for c in ex["C-T1"].cells)
    assert sum(len(c.runs) for c in ex["R-T1"].cells) == 32
    cpu = load_config(config(), scale="cpu")
    assert all(c.values["ch"] <= 128 for c in cpu["R-T1"].cells)


def test_claims_scale_trains_only_the_claim_cells_at_the_original_budget():
    cpu, claims, paper = (all_runs(load_config(config(), scale=s)) for s in ("cpu", "claims", "paper"))
    ex = load_config(config(), scale="claims")
    t2 = {(c.values["nops"], c.values["l"]): c.runs[0][1]["samples"] for c in ex["S2-T2"].cells}
    assert t2[(5, 6)] == t2[(3, 12)] == 4_000_000 and t2[(3, 6)] == t2[(2, 18)] == 500_000
    assert [c.runs[0][1]["samples"] for c in ex["S2-T3"].cells] == [4_000_000] * 3
    r = {k: s for k, s in claims.items() if s["task"] == "selcopy" and s.get("norm") == "bn"}
    assert sorted((s["samples"], s["sched-samples"]) for s in r.values())[-3:] == [(3_900_064, 4_000_000)] * 3
    more = {m["attnact"]: m["trials"] for m in CONFIG["experiments"]["C-T2"]["scales"]["claims"]["more_trials"]}
    s1 = CONFIG["experiments"]["S1-T1"]["scales"]["claims"]
    extra = {m["l"]: m["trials"] for m in s1.get("more_trials", [])}
    assert {c.values["l"]: len(c.runs) for c in ex["S1-T1"].cells} == {
        c.values["l"]: extra.get(c.values["l"], s1["trials"]) for c in ex["S1-T1"].cells}  # trials, more_trials
    assert {c.values["attnact"]: len(c.runs) for c in ex["C-T2"].cells} == {"dpfp": 5, **more}  # more_trials
    new = set(claims) - set(cpu)  # every new run is an original-budget (paper) run or an added trial
    assert all(k in paper or claims[k]["seed"] > 1 for k in new)


def test_shared_cells_train_once_and_one_change_moves_one_key():
    ex = load_config(config(), scale="paper")
    assert set(ex["S1-T1"].keys) & set(ex["S1-T2"].keys)  # the l=6/ks=9 baseline is shared
    before = all_runs(ex)
    changed = config()
    changed["experiments"]["S1-T1"]["grid"] = {"l": [6, 14, 10, 12]}  # l=8 is in S1-T1 only
    after = all_runs(load_config(changed, scale="paper"))
    assert len(set(after) - set(before)) == 1 and len(set(before) - set(after)) == 1


def test_table_means_std_pending_and_reference(tmp_path):
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    exp = load_config(config(), scale="paper")["C-T2"]
    elu = next(c for c in exp.cells if c.values["attnact"] == "elu+1")
    for (_, _, key), err in zip(elu.runs, [1.0, 2.0, 4.0, 5.0, 8.0]):
        write_json(tmp_path / "results" / "runs" / key / "metrics.json", {
            "run_key": key, "status": "done", "samples": 1,
            "metrics": {"validation_sample_error%": err, "validation_mask_error%": err / 5, "validation_loss": 0.1,
                        "model_params": 229632, "train_time_s": 60.0, "throughput": 10.0}})
    rows = build_rows(exp, tmp_path)
    frame = judged(exp, rows).frame().set_index("attnact")
    assert frame.loc["elu+1", "validation_sample_error%"] == "4.0 ± 2.7 (1–8, 5)"  # sd with ddof=1
    assert frame.loc["elu+1", "validation_sample_error% (original)"] == "0.68 ± 0.35 (0.199–1.05, 5)"
    # ours 1-8 % against the original's 0.2-1.05 %: the interval of the odds ratio lies above 2
    assert frame.loc["elu+1", VERDICT].startswith("not reproduced: sample ×")
    assert frame.loc["elu+1", "status"] == "done"
    assert frame.loc["dpfp", "status"] == "5 pending" and frame.loc["dpfp", "validation_sample_error%"] == ""
    assert place_line(Table(exp, rows)) == ("The original's value among our trials (min to max), "
                                            "sample error %: below ours in 1 of 1 rows (attnact=elu+1).")


@pytest.mark.parametrize("mean, sd, shown", [(0.000424, 0.000146, "0.00042 ± 0.00015"), (99.0, 0.198, "99.0 ± 0.20"),
                                             (0.199, 0.0021, "0.199 ± 0.0021"), (123456, 789, "123000 ± 790")])
def test_a_mean_is_no_finer_than_its_spread(mean, sd, shown):
    """The sd to two significant figures, the mean to the same decimal place, at most three figures."""
    assert mean_sd("validation loss", mean, sd) == shown


def test_a_per_trial_table_pairs_trials_by_rank_and_counts_cells(tmp_path):
    """C-T3 shows each trial of ours beside the original's trial of the same rank, with their ratio;
    the cell's verdict (all its trials, C-T2's too) is stated once per cell, and the count counts cells."""
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    experiments = load_config(config(), scale="claims")
    exps = {name: experiments[name] for name in ("C-T2", "C-T3")}
    for cell in exps["C-T2"].cells:
        for i, (_, _, key) in enumerate(cell.runs):
            err = 0.4 + 0.15 * i if cell.values["attnact"] == "elu+1" else 2.5 - 0.2 * i
            write_json(tmp_path / "results" / "runs" / key / "metrics.json", {
                "run_key": key, "status": "done", "samples": 1000000,
                "metrics": {"validation_sample_error%": err, "validation_mask_error%": err / 5, "validation_loss": 0.01,
                            "model_params": 229632, "train_time_s": 60.0, "throughput": 10.0}})
    rows = {name: build_rows(exp, tmp_path) for name, exp in exps.items()}
    table = judge_tables(exps, rows, Rules.load(ROOT / "workflow" / "verdicts.yaml"))[1]["C-T3"]
    frame, col = table.frame(), "validation_sample_error%"
    assert VERDICT not in frame and len(frame) == 10
    for r, shown in zip(table.rows, frame[PARTNER]):
        assert shown.startswith(f"sample ×{r.mean(col) / r.original[col]:.2g}")
    for cell in exps["C-T3"].cells:
        pairs = sorted((r.mean(col), r.original[col]) for r in table.rows if r.cell is cell)
        assert [o for _, o in pairs] == sorted(o for _, o in pairs)  # best beside best
    line = summary_line(table)
    counts = re.search(r"all our trials\): (.*?) \(attnact=", line).group(1)
    assert sum(int(n) for n in re.findall(r"(\d+) [a-z ]+", counts)) == len(exps["C-T3"].cells), line
    assert all(f"attnact={c.values['attnact']}: " in line for c in exps["C-T3"].cells)


def test_rows_read_the_results_a_job_is_handed():
    """A table, plot or judging job builds its rows from the metrics.json files of its
    `snakemake.input`: the same rows as from the run directories, and none it was not handed."""
    exp = load_config(config(), scale="claims")["S1-T4"]
    paths = [ROOT / "results" / "runs" / r.key / "metrics.json" for c in exp.cells for r in c.runs]
    handed = build_rows(exp, ROOT, results=results_at(p for p in paths if p.exists()))
    assert [(r.keys, r.done_keys, r.values) for r in handed] == [(r.keys, r.done_keys, r.values)
                                                                for r in build_rows(exp, ROOT)]
    assert any(r.done_keys for r in handed)
    assert not any(r.done_keys for r in build_rows(exp, ROOT, results={}))


def test_curves_read_the_files_a_job_is_handed():
    key = next(p.parent.name for p in sorted((ROOT / "results" / "runs").glob("*/curve.csv")))
    path = ROOT / "results" / "runs" / key / "curve.csv"
    assert read_curve(key, ROOT, {key: path}).equals(read_curve(key, ROOT))
    assert read_curve(key, ROOT, {}) is None  # a curve the job was not handed is not read


def test_original_place_only_where_the_original_has_a_value(tmp_path):
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    exp = load_config(config(), scale="claims")["S1-T1"]
    l12 = next(c for c in exp.cells if c.values["l"] == 12)
    for (_, _, key), loss in zip(l12.runs, [0.002, 0.003]):
        write_json(tmp_path / "results" / "runs" / key / "metrics.json", {
            "run_key": key, "status": "done", "samples": 1,
            "metrics": {"validation_sample_error%": 3.0, "validation_mask_error%": 0.3, "validation_loss": loss,
                        "model_params": 459520, "train_time_s": 60.0, "throughput": 10.0}})
    rows = build_rows(exp, tmp_path)
    frame = judged(exp, rows).frame().set_index("l")
    assert frame.loc["12", "validation loss (original)"] == "0.00128"
    assert frame.loc["12", "validation_mask_error%"] == "0.3 in 2 of 2"  # every trial alike
    assert not [c for c in frame.columns if "error% (original" in c]  # S1-T1's original reports loss only
    assert place_line(Table(exp, rows)) == ("The original's value among our trials (min to max), validation loss: "
                                     "below ours in 1 of 1 rows (l=12).")


def test_committed_results_schedule_no_training():
    """A fresh clone rebuilds the article from committed results without training anything."""
    out = subprocess.run(["snakemake", "-n", "--quiet", "rules"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert not re.search(r"^train\s+\d+", out.stdout, re.MULTILINE), out.stdout[-2000:]


def test_a_fresh_clone_has_nothing_to_do(tmp_path):
    """In a clone of the committed tree the build has nothing to do and changes nothing; once the
    clone's config changes, the changed experiment is rebuilt (file times still work)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    out = subprocess.run(["snakemake", "-n", "--cores", "1"], cwd=clone, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "Nothing to be done" in out.stdout + out.stderr, out.stdout[-3000:]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
    assert status == ""
    # the report: one line for all the committed outputs without metadata, sections as subcategories
    report = tmp_path / "report.zip"
    out = subprocess.run(["snakemake", "--report", str(report)], cwd=clone, capture_output=True, text=True,
                         timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0 and log.count("metadata") == 1, log[-3000:]
    with zipfile.ZipFile(report) as z:
        page = z.read(next(n for n in z.namelist() if n.endswith("report.html"))).decode()
    assert "Very selective copying" in page and "vslm: Very Small Language Models" in page
    cfg = yaml.safe_load((clone / "config.yaml").read_text())
    cfg["experiments"]["S2-T4"]["title"] = "Another title"
    (clone / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = subprocess.run(["snakemake", "-n", "--cores", "1", "--quiet", "rules"], cwd=clone, capture_output=True,
                         text=True, timeout=300)
    assert re.search(r"^plot\s+1$", out.stdout, re.MULTILINE) and re.search(r"^article\s+1$", out.stdout,
                                                                           re.MULTILINE), out.stdout
    assert re.search(r"^judge\s+1$", out.stdout, re.MULTILINE), out.stdout  # every row judged by one job


@pytest.mark.slow
def test_the_committed_tables_and_article_are_what_the_dag_builds(tmp_path):
    """Rebuilt from the committed runs by the pipeline itself, every table and the article's text
    come out byte-identical (images are left out: their pixels may differ with the fonts)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    out = subprocess.run(["snakemake", "--cores", "2", "--forcerun", "judge", "table", "summary", "article",
                          "--quiet"], cwd=clone, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    changed = subprocess.run(["git", "status", "--porcelain", "--", "results/tables", "results/judged.json",
                              "report/article.md"], cwd=clone, capture_output=True, text=True).stdout
    assert changed == "", changed


def test_every_committed_run_is_in_the_config():
    runs = {k for scale in CONFIG["scales"] for k in all_runs(load_config(config(), scale=scale))}
    for path in (ROOT / "results" / "runs").glob("*/metrics.json"):
        assert json.loads(path.read_text())["run_key"] in runs


def _dry_run_train_jobs(work: Path) -> int:
    out = subprocess.run(["snakemake", "-n", "--quiet", "rules"], cwd=work, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    m = re.search(r"^train\s+(\d+)", out.stdout, re.MULTILINE)
    return int(m.group(1)) if m else 0


def test_added_cell_or_trial_schedules_only_the_new_runs(tmp_path):
    copy_pipeline(tmp_path)
    cfg = yaml.safe_load((ROOT / "tests" / "fixtures" / "config.yaml").read_text())
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert _dry_run_train_jobs(tmp_path) == 4
    for key in all_runs(load_config(cfg)):  # pretend every run and output is there
        run = tmp_path / "results" / "runs" / key
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps({"run_key": key, "status": "failed", "error": "x"}))
        for name in ("curve.csv", "examples.png", "examples.txt"):
            (run / name).write_text("")
    for out in ["report/article.md", "report/article.html", "results/plots/receptive-field.png",
                "results/plots/summary.png", "results/plots/summary.svg",
                *(f"results/{kind}/{exp}.{ext}" for exp in cfg["experiments"]
                  for kind, ext in (("tables", "md"), ("tables", "csv"), ("plots", "png"), ("plots", "svg")))]:
        (tmp_path / out).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / out).write_text("")
    assert _dry_run_train_jobs(tmp_path) == 0
    cfg["experiments"]["S1-T1"]["grid"]["l"].append(10)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert _dry_run_train_jobs(tmp_path) == 1  # the new cell
    cfg["scales"]["smoke"]["trials"] = 2
    cfg["experiments"]["S1-T1"]["trials"] = 2
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert _dry_run_train_jobs(tmp_path) == 4  # the new cell's first trial and three second trials


def test_draft_marks_pending_cells(tmp_path, monkeypatch, capsys):
    from vslm.cli import main

    copy_pipeline(tmp_path)
    shutil.copy(ROOT / "tests" / "fixtures" / "config.yaml", tmp_path / "config.yaml")
    monkeypatch.chdir(tmp_path / "workflow")  # paths resolve from the config's folder
    assert main(["draft", "--config", "../config.yaml", "--out", "../draft"]) == 0
    table = (tmp_path / "draft" / "tables" / "S1-T1.md").read_text()
    assert table.count("1 pending") == 2
    article = (tmp_path / "draft" / "article.md").read_text()
    assert "Draft: 0 of 2 runs finished" in article and "not evaluable" in article
    assert not (tmp_path / "results" / "tables").exists()  # never over the pipeline's outputs


def test_plan_counts_finished_runs(tmp_path):
    from vslm.plan import estimate_cpu_seconds, plan_table

    experiments = load_config(config(), scale="smoke")
    keys = list(all_runs(experiments))
    run = tmp_path / "results" / "runs" / keys[0]
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"run_key": keys[0], "status": "failed", "error": "x"}))
    lines = plan_table(experiments, tmp_path).splitlines()
    assert lines[-1].split()[:3] == ["total", str(len(keys)), "1"]

    # a finished run that took twice its estimate scales the hours left by 2
    seconds = 2 * estimate_cpu_seconds(all_runs(experiments)[keys[0]])
    metrics = {"train_time_s": seconds, "validation_loss": 1.0, "validation_mask_error%": 50.0,
               "validation_sample_error%": 90.0, "model_params": 1}
    (run / "metrics.json").write_text(json.dumps({"run_key": keys[0], "status": "done", "metrics": metrics}))
    *_, total, calibrated = plan_table(experiments, tmp_path).splitlines()
    hours = float(total.split()[-1])
    assert calibrated.startswith("1 finished run(s) took 2.00x")
    assert calibrated.endswith(f"{hours * 2:.1f} CPU-hours left at that rate")


@pytest.mark.slow
def test_killed_pipeline_resumes_its_run(tmp_path):
    """Snakemake and its training job killed after a checkpoint: the next invocation resumes the
    run from the checkpoint (rerun-incomplete does not delete it) and finishes it."""
    import os
    import signal
    import time

    copy_pipeline(tmp_path)
    cfg = yaml.safe_load((ROOT / "tests" / "fixtures" / "config.yaml").read_text())
    cfg["experiments"] = {"S1-T1": cfg["experiments"]["S1-T1"]}
    cfg["experiments"]["S1-T1"]["grid"]["l"] = [6]
    cfg["scales"]["smoke"]["settings"].update({"samples": 16384, "val-every": 1024})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    (key,) = all_runs(load_config(cfg))
    run = tmp_path / "results" / "runs" / key
    cmd = ["snakemake", "--cores", "1", "--resources", "gpu=1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    end = time.monotonic() + 300
    while not (run / "checkpoint.pt").exists() and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its job
    proc.wait()
    assert (run / "checkpoint.pt").exists() and not (run / "metrics.json").exists()
    # a hard kill leaves Snakemake's lock behind: --unlock first (README)
    subprocess.run(["snakemake", "--unlock"], cwd=tmp_path, capture_output=True, check=True, timeout=120)
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resuming" in (tmp_path / "results" / "logs" / f"{key}.log").read_text()
    assert json.loads((run / "metrics.json").read_text())["status"] == "done"
    assert not (run / "checkpoint.pt").exists()


def test_a_failing_run_is_retried_then_recorded(tmp_path):
    """A training error fails the job; Snakemake retries it once and the last attempt records the
    run as failed, so the DAG finishes and the table marks the row (SLURM: tests/test_slurm.py)."""
    copy_pipeline(tmp_path)
    cfg = yaml.safe_load((ROOT / "tests" / "fixtures" / "config.yaml").read_text())
    cfg["experiments"] = {"S2-T4": cfg["experiments"]["S2-T4"]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    key = next(k for k, s in all_runs(load_config(cfg)).items() if s["device"] == "cuda")
    target = f"results/runs/{key}/metrics.json"
    out = subprocess.run(["snakemake", target, "--cores", "1", "--resources", "gpu=1"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads((tmp_path / target).read_text())
    assert result["status"] == "failed" and result["attempts"] == 2 and "CUDA" in result["error"]


def test_the_conda_env_carries_the_pinned_dependencies():
    """workflow/envs/vslm.yaml lists exactly pyproject.toml's pins (so its hash follows them) and
    installs nothing by a path relative to itself."""
    import tomllib

    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "workflow" / "envs" / "vslm.yaml").read_text())
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert sorted(pip) == sorted(pins)
    assert not any(p.startswith(("-e", ".", "/")) for p in pip)
