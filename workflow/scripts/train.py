"""Snakemake job: train one run (its spec from params) into its run directory, on a GPU slot of its
own when the job holds the `gpu` resource outside SLURM. An error fails the job so that Snakemake
retries it; the last attempt records it as a `failed` run instead, so the article still builds with
the row marked."""
import contextlib
import os
import traceback
from pathlib import Path

from vslm.files import FileError, read_json, write_json
from vslm.gpuslots import pinned
from vslm.settings import resolve
from vslm.train import TRAIN_RETRIES, run

out = Path(snakemake.output.metrics).parent
execution = read_json(Path("results/specs/execution.json")).get(out.name, {})  # device: not a rerun trigger
settings = {**snakemake.params.spec, **execution, "threads": snakemake.threads, "progress": False}
with open(snakemake.log[0], "a") as log:
    def say(line):
        print(line, file=log, flush=True)

    on_gpu = snakemake.resources.get("gpu", 0) and not os.environ.get("SLURM_JOB_ID")
    try:
        # jobs_per_gpu is read here, not a param: it places jobs, it does not change results
        slots = pinned(".snakemake/gpu-slots", snakemake.config.get("jobs_per_gpu", 1))
        with slots if on_gpu else contextlib.nullcontext():
            run(resolve(settings), out, log=say)
    except FileError as e:  # not the run's fault (a directory in use, a full disk): nothing recorded
        say(f"error: {e}")
        raise SystemExit(1) from None
    except Exception as e:
        say(traceback.format_exc())
        attempt = snakemake.resources.attempt
        if attempt <= TRAIN_RETRIES:
            say(f"attempt {attempt} failed; Snakemake retries it")
            raise SystemExit(1) from None
        for name in ("curve", "examples", "text"):
            Path(snakemake.output[name]).touch()
        write_json(out / "metrics.json", {"run_key": out.name, "status": "failed", "attempts": attempt,
                                          "error": f"{type(e).__name__}: {e}", "settings": settings})
