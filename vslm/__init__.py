"""vslm: reproducible experiments with Very Small Language Models."""
__version__ = "0.1.0"
