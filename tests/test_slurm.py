"""The smoke pipeline on a real single-node SLURM cluster, through the official executor plugin."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_pipeline

sys.path.insert(0, str(Path(__file__).parent / "slurm"))
from cluster import Cluster, available  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not available(), reason="SLURM daemons not installed (.ci/run installs them)")]


def test_pipeline_on_slurm(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    copy_pipeline(work)
    shutil.copy(ROOT / "tests" / "fixtures" / "config.yaml", work / "config.yaml")
    cluster = Cluster(tmp_path / "cluster").start()
    try:
        out = subprocess.run(["timeout", "600", "snakemake", "--profile", "workflow/profiles/slurm"],
                             cwd=work, env=cluster.env, capture_output=True, text=True)
    finally:
        cluster.stop()
    log = out.stdout[-3000:] + out.stderr[-3000:]
    assert out.returncode == 0, log
    article = (work / "report" / "article.md").read_text()
    assert "S1-T1" in article and "S2-T4" in article
    s1 = (work / "results" / "tables" / "S1-T1.csv").read_text()
    assert s1.count(",done,") == 2
    s2 = (work / "results" / "tables" / "S2-T4.md").read_text()
    assert "1 failed" in s2 and "| done " in s2  # the failing cell was retried, then recorded
    failed = [json.loads(p.read_text()) for p in (work / "results" / "runs").glob("*/metrics.json")]
    assert [r["attempts"] for r in failed if r["status"] == "failed"] == [2]
    runs = [json.loads(p.read_text()) for p in (work / "results" / "runs").glob("*/metrics.json")]
    assert all(r["provenance"]["slurm_job"] for r in runs if r["status"] == "done")  # really ran via sbatch
