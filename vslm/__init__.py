"""vslm: reproducible experiments with Very Small Language Models."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vslm")  # set from git at install time (pyproject.toml: setuptools-scm)
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "unknown"
