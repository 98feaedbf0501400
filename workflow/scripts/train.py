"""Snakemake job: train one run (its spec from params) into its run directory."""
import traceback
from pathlib import Path

from vslm.rundir import write_json
from vslm.settings import resolve
from vslm.train import run

out = Path(snakemake.output.metrics).parent
settings = {**snakemake.params.spec, "threads": snakemake.threads, "progress": False}
with open(snakemake.log[0], "a") as log:
    def say(line):
        print(line, file=log, flush=True)

    try:
        run(resolve(settings), out, log=say)
    except Exception as e:  # a failed run becomes a marked cell of the draft table
        say(traceback.format_exc())
        for name in ("curve", "examples", "text"):
            Path(snakemake.output[name]).touch()
        write_json(out / "metrics.json", {"run_key": out.name, "status": "failed",
                                          "error": f"{type(e).__name__}: {e}", "settings": settings})
