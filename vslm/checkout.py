"""A fresh clone's file times. Git writes files in path order, so in a new checkout the committed
runs look newer than the tables and plots built from them, and Snakemake (which has no metadata
there yet) would rebuild every output. Before the first run in a checkout whose tracked files are
unchanged, the committed files are stamped in the order the pipeline builds them (once: a marker
in `.snakemake/`, which Snakemake creates before it reads the Snakefile); from then on file times
are Snakemake's own. Also: the checkout's own code for every job (`put_on_pythonpath`), and one
line instead of one per file where `snakemake --report` finds committed outputs without metadata
(`quiet_missing_metadata`)."""
from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

from .files import FileError

# Path prefixes of the pipeline's outputs, in build order; every other tracked file is an input.
LAYERS = (("results/runs/", "results/original-runs/"), ("results/judged.json",), ("results/tables/", "results/plots/"),
          ("report/",))
MARKER = ".snakemake/vslm-checkout-stamped"


def check_writable(root: Path = Path(".")) -> None:
    """Refuse a checkout the pipeline cannot write to (Snakemake keeps its state in `.snakemake/`,
    the jobs write `results/` and `report/`) with one line, before Snakemake fails deep inside."""
    try:
        (Path(root) / ".snakemake").mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=Path(root) / ".snakemake"):
            pass
    except OSError as e:
        raise FileError(f"{Path(root).resolve()}: this checkout is not writable ({e.strerror}); the pipeline "
                        "writes .snakemake/, results/ and report/ there: use a writable clone") from None


def stamp_fresh_clone(root: Path = Path(".")) -> bool:
    """Stamp a clean checkout's tracked files in build order, once per checkout. Returns whether it
    did; a checkout with changes, no git or read-only files is left as it is (then file times
    decide, as before)."""
    root = Path(root)
    if (root / MARKER).exists():
        return False
    try:
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=30)
        files = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    if dirty.returncode or files.returncode or dirty.stdout.strip():
        return False
    start = time.time() - len(LAYERS) - 2
    try:
        for path in filter(None, files.stdout.split("\0")):
            layer = next((i + 1 for i, prefixes in enumerate(LAYERS) if path.startswith(prefixes)), 0)
            os.utime(root / path, (start + layer, start + layer), follow_symlinks=False)
        (root / MARKER).parent.mkdir(exist_ok=True)
        (root / MARKER).touch()
    except OSError:
        return False
    return True


def put_on_pythonpath(folder: str | Path) -> None:
    """Jobs (and the job scripts Snakemake starts) import vslm from `folder` first: the checkout's
    code, also in a conda env that holds only the dependencies."""
    paths = [str(folder), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


class _MissingMetadataOnce(logging.Filter):
    """Snakemake's per-file 'Missing metadata for file …' warning, said once for all files."""

    PREFIX = "Missing metadata for file"
    said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(self.PREFIX):
            return True
        if self.said:
            return False
        self.said = True
        record.msg, record.args = ("Some outputs have no Snakemake metadata (committed, not built in this "
                                   "checkout): the report lists them without runtimes. Said once for all."), ()
        return True


def quiet_missing_metadata() -> None:
    """In a fresh clone every committed output lacks the metadata of the job that built it (it was
    built elsewhere); `snakemake --report` would warn once per file (hundreds of lines)."""
    log = logging.getLogger("snakemake.logging")
    if not any(isinstance(f, _MissingMetadataOnce) for f in log.filters):
        log.addFilter(_MissingMetadataOnce())
