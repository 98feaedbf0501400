"""The benchmarks run and print their tables (their numbers are read by people, not asserted)."""
from vslm.bench import MODES, data_bench, main


def test_benchmarks_print_tables():
    data = data_bench(seconds=0.05)
    assert "program 5 letters / 5 ops" in data and "numpy/s" in data
    table = main(seconds=0.05, only=["lstm"])
    assert "fp32 conv peak" in table and table.count("lstm 6L/64") == 1 + len(MODES)


def test_batched_trials_train_like_separate_runs():
    """The vmapped trials follow each trial's own run (same init, data and AdamW updates)."""
    import torch

    from vslm.bench import batched_trials_loop, our_loop
    from vslm.settings import resolve

    settings = resolve(dict(task="program", len=3, nops=1, l=2, ch=16, ks=5, attn="0,T", epoch=1024, threads=1,
                            progress=False, **{"val-count": 64}))
    batched, params = batched_trials_loop(settings, trials=2)
    for _ in range(3):
        batched()
    for trial in range(2):
        step, run = our_loop({**settings, "seed": trial})
        for _ in range(3):
            step()
        for name, p in run.model.named_parameters():
            torch.testing.assert_close(params[name][trial], p, rtol=1e-4, atol=1e-5)


def test_scheduling_bench_compares_splits_of_the_cores():
    from vslm.bench import scheduling_bench

    table = scheduling_bench(2, seconds=0.05, only=["3L"])
    assert "2 × 1" in table and "1 × 2" in table and "6L" not in table


def test_convs_alone_times_every_convolution_of_the_step():
    import torch

    from vslm.bench import bench_settings, conv_inputs, convs_alone
    from vslm.models import build_model
    from vslm.tasks import make_task

    settings = bench_settings("conv 3L/64/ks13 attn 0,0,T, 3 ops", threads=1)
    layers = conv_inputs(settings)
    assert len(layers) == sum(isinstance(m, torch.nn.Conv1d) for m in build_model(settings).modules()) == 3
    assert {x.shape[0] for _, x in layers} == {64}
    assert {x.shape[-1] for _, x in layers} == {make_task(settings).max_length}
    row = next(line for line in convs_alone(seconds=0.05, only=["3L"]).splitlines() if "3L" in line)
    assert 50 < float(row.split("|")[3].strip(" %")) < 100  # the convs' share of the step's FLOPs
