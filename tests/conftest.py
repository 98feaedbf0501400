"""Shared test helpers."""
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_pipeline(dst: Path) -> Path:
    """The pipeline's own files (Snakefile, profiles link, workflow/, reference/) in `dst`."""
    dst.mkdir(parents=True, exist_ok=True)
    for d in ("workflow", "reference"):
        shutil.copytree(ROOT / d, dst / d)
    shutil.copy(ROOT / "Snakefile", dst / "Snakefile")
    os.symlink("workflow/profiles", dst / "profiles")
    return dst
