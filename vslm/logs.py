"""A job's log file: everything it prints and any error it raises, then the error re-raised."""
from __future__ import annotations

import contextlib
import traceback
from pathlib import Path


@contextlib.contextmanager
def logged(path: str | Path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            yield log
        except BaseException:
            traceback.print_exc(file=log)
            raise
