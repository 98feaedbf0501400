"""The benchmarks run and print their tables (their numbers are read by people, not asserted)."""
from vslm.bench import MODES, data_bench, main


def test_benchmarks_print_tables():
    data = data_bench(seconds=0.05)
    assert "program 5 letters / 5 ops" in data and "numpy/s" in data
    table = main(seconds=0.05, only=["lstm"])
    assert "fp32 conv peak" in table and table.count("lstm 6L/64") == 1 + len(MODES)
