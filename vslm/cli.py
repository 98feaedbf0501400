"""The `vslm` command line: sample, score, params, train, plan, draft, export, bench. Each command
imports what it runs (torch, matplotlib) when it runs, so `--help` and `--version` start at once."""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import yaml

from . import __version__
from .config import load, read_config
from .files import MAX_TEXT_BYTES, FileError, atomic_write, read_text
from .keys import ConfigError, help_text
from .paths import OUTPUTS, PLAN, SECTIONS, VERDICTS, WORDING, root_of
from .settings import (
    COMMON_DEFAULTS,
    EXEC_KEYS,
    TRAIN_KEYS,
    VALIDATION_KEYS,
    SettingsError,
    model_key_table,
    parse_assignments,
    resolve,
    task_key_table,
)
from .tasks import TASKS

EPILOG_TASK = "task settings (ranges as lo,hi; prefix val- for validation-only values, e.g. val-nops=5):\n"


def _settings_help() -> str:
    return "\n".join([
        EPILOG_TASK + help_text(task_key_table()), "validation set:\n" + help_text(VALIDATION_KEYS),
        "model settings:\n" + help_text(model_key_table()), "training settings:\n" + help_text(TRAIN_KEYS),
        "execution (not part of the run key):\n" + help_text(EXEC_KEYS)])


def _defaults_help() -> str:
    from .models import MODELS

    lines = ["defaults:"]
    registered = [*TASKS.items(), *MODELS.items()]
    for name, d in [("common", COMMON_DEFAULTS), *((n, m.DEFAULTS) for n, m in registered)]:
        lines.append(f"  {name:<8} " + " ".join(f"{k}={v}" for k, v in d.items()))
    return "\n".join(lines)


def cmd_sample(a) -> None:
    from .tasks import make_task, train_stream, validation_set

    raw = {"task": a.task, **parse_assignments(a.settings)}
    if a.seed is not None:
        raw["seed"] = a.seed
    s = resolve(raw)
    if a.split == "validation":
        samples = make_task(s, "validation").python_samples(min(a.n, s["val-count"]), seed=s["val-seed"])
    else:
        samples = train_stream(s, validation_set(s)).epoch(0).take(slice(0, a.n))
    rows = samples.masked() if a.masked else samples.text
    for row, n in zip(rows, samples.length):
        print(bytes(row[:n]).decode("ascii").replace("\0", "_" if a.masked else "\0"))


class UsageError(ValueError):
    """A bad argument or input file: one line, exit 2."""


def read_lines(path: str) -> list[str]:
    """The lines of a UTF-8 text file ('-': standard input)."""
    try:
        text = sys.stdin.read(MAX_TEXT_BYTES + 1) if path == "-" else read_text(path)
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a text file") from None
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    if len(text) > MAX_TEXT_BYTES:
        raise UsageError(f"{path}: over {MAX_TEXT_BYTES:,} bytes")
    if "\0" in text:
        raise UsageError(f"{path}: a binary file, not text")
    return text.splitlines()


def positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not >= 1")
    return value


def cmd_score(a) -> None:
    """Judge full texts (question + answer), e.g. a model's outputs, with the independent checker."""
    from .tasks import check_answer

    lines = [line for line in read_lines(a.file) if line.strip()]
    wrong = []
    for line in lines:
        try:
            ok = check_answer(a.task, line)
        except (ValueError, IndexError):  # not a text of this task at all
            ok = False
        if not ok:
            wrong.append(line)
    for line in wrong if a.show_wrong else []:
        print(f"wrong: {line}")
    right = len(lines) - len(wrong)
    error = 100 * len(wrong) / max(1, len(lines))
    print(f"{len(lines)} texts, {right} right, {len(wrong)} wrong ({error:.2f} % sample error)")


def cmd_params(a) -> None:
    from .models import build_model, count_params

    print(count_params(build_model(resolve(parse_assignments(a.settings), data=False))))


def load_settings_file(path: str) -> dict:
    try:
        data = yaml.safe_load(read_text(path, 1_000_000)) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        why = "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else type(e).__name__
        raise SettingsError("SETTINGS", path, f"cannot read the settings file ({why})") from None
    if not isinstance(data, dict):
        raise SettingsError("SETTINGS", path, "expected a mapping of key: value")
    return data


def cmd_train(a) -> None:
    from .train import run

    raw = load_settings_file(a.settings) if a.settings else {}
    raw.update(parse_assignments(a.set or []))
    settings = resolve(raw)
    try:
        result = run(settings, Path(a.out))
    except (SettingsError, FileError, OSError):
        raise
    except Exception as e:  # a failure inside training: one line here, the traceback in the run's folder
        log = Path(a.out) / "error.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(log, traceback.format_exc())
        raise UsageError(f"training failed: {type(e).__name__}: {e} (traceback in {log})") from None
    m = result["metrics"]
    print(f"{result['status']}: {result['samples']:,} samples, validation sample error "
          f"{m['validation_sample_error%']}%, mask error {m['validation_mask_error%']}% -> {a.out}")


def cmd_plan(a) -> None:
    from .plan import plan_table

    print(plan_table(load(a.config, scale=a.scale), root_of(a.config)))


def output_folder(out: Path, root: Path, what: str, default: str) -> Path:
    """`out`, unless it is, holds or lies inside the pipeline's outputs or is the checkout itself."""
    out = Path(out).resolve()
    for kept in [root.resolve(), *(root.resolve() / o for o in OUTPUTS)]:
        if out == kept or kept.is_relative_to(out) or (kept != root.resolve() and out.is_relative_to(kept)):
            raise UsageError(f"--out {out}: {what} would overwrite the pipeline's outputs in {kept}; "
                             f"name a folder of its own (default {default}/)")
    return out


def cmd_draft(a) -> None:
    """Tables, plots and article from whatever runs exist (pending cells marked) into their own
    folder, never over the pipeline's outputs; trains nothing."""
    from .article import write_article
    from .judged import judge_all, write_judged
    from .plots import plot_experiment
    from .receptive import receptive_field_figure
    from .rows import build_rows
    from .summary import summary_figure
    from .tables import Table

    config, root = read_config(a.config), root_of(a.config)
    scale = a.scale or config["scale"]
    out = output_folder(Path(a.out), root, "the draft", "draft")
    experiments = load(config, scale=scale, root=root)
    judged = judge_all(experiments, root / VERDICTS, root / PLAN, root / WORDING, root)
    write_judged(out / "judged.json", judged)
    table_files, plots = {}, {}
    for name, e in experiments.items():
        table = Table(e, build_rows(e, root), judged["rows"][name])
        table_files[name], plots[name] = out / "tables" / f"{name}.md", out / "plots" / f"{name}.png"
        table.write(table_files[name], out / "tables" / f"{name}.csv")
        plot_experiment(table, plots[name], out / "plots" / f"{name}.svg", root)
    receptive_field_figure(out / "plots" / "receptive-field.png")
    summary_figure(judged["points"], judged["margin"], out / "plots" / "summary.png", out / "plots" / "summary.svg")
    write_article(experiments, scale, config["scales"][scale].get("note", ""), out / "article.md",
                  out / "article.html", root / SECTIONS, root / WORDING, out / "judged.json", table_files,
                  plots, out / "plots" / "receptive-field.png", out / "plots" / "summary.png", root=root)
    print(f"draft written to {out / 'article.md'} and {out / 'article.html'}")


def cmd_export(a) -> None:
    from .export import tensorboard

    experiments = load(a.config, scale=a.scale)
    if a.only:
        unknown = sorted(set(a.only) - set(experiments))
        if unknown:
            raise UsageError(f"--only {' '.join(unknown)}: not an experiment of the config")
        experiments = {k: v for k, v in experiments.items() if k in a.only}
    try:
        root = root_of(a.config)
        n = tensorboard(experiments, output_folder(Path(a.out), root, "the export", "tensorboard"), root)
    except RuntimeError as e:
        raise UsageError(str(e)) from None
    print(f"{n} runs written to {a.out}: tensorboard --logdir {a.out}")


def cmd_bench(a) -> None:
    from .bench import convs_alone, data_bench, scheduling_bench
    from .bench import main as bench

    if a.data:
        print(data_bench())
    elif a.convs:
        print(convs_alone(seconds=a.seconds, threads=a.threads, only=a.only))
    elif a.cores:
        print(scheduling_bench(a.cores, seconds=a.seconds, only=a.only))
    else:
        print(bench(seconds=a.seconds, threads=a.threads, only=a.only))


def version_text() -> str:
    """The installed version and the commit of the checkout the code runs from."""
    from .train import git_commit

    commit, dirty = git_commit(Path(__file__).resolve().parent)
    where = f"commit {commit[:12]}{' with uncommitted changes' if dirty else ''}" if commit else "no git checkout"
    return f"vslm {__version__} ({where})"


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="vslm", description=__doc__)
    p.add_argument("--version", action="version", version=version_text())
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="print samples of a task", formatter_class=fmt,
                       epilog=EPILOG_TASK + help_text(task_key_table()) + "\n" + _defaults_help())
    s.add_argument("task", choices=list(TASKS))
    s.add_argument("settings", nargs="*", metavar="key=value")
    s.add_argument("-n", type=positive, default=10, help="number of samples (default 10)")
    s.add_argument("--split", choices=["train", "validation"], default="train",
                   help="train: the seeded training stream; validation: the fixed validation set")
    s.add_argument("--seed", type=int, help="training stream seed (default 0)")
    s.add_argument("--masked", action="store_true", help="print the masked model input (NUL shown as _)")
    s.set_defaults(func=cmd_sample)

    s = sub.add_parser("score", help="check full texts (question + answer) with the independent checker")
    s.add_argument("task", choices=list(TASKS))
    s.add_argument("file", nargs="?", default="-", help="one text per line (default: stdin)")
    s.add_argument("--show-wrong", action="store_true", help="print the wrong texts")
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("params", help="print a model's parameter count", formatter_class=fmt,
                       epilog="model settings:\n" + help_text(model_key_table()) + "\n" + _defaults_help())
    s.add_argument("settings", nargs="*", metavar="key=value")
    s.set_defaults(func=cmd_params)

    s = sub.add_parser("train", help="train one run into a run directory", formatter_class=fmt,
                       epilog=_settings_help() + "\n" + _defaults_help())
    s.add_argument("settings", nargs="?", help="YAML file of settings (key: value)")
    s.add_argument("--out", required=True, help="run directory (resumed if it holds a checkpoint)")
    s.add_argument("--set", nargs="*", metavar="key=value", help="settings overriding the file")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("plan", help="runs, finished runs, samples and estimated CPU-hours left per experiment")
    s.add_argument("--config", default="config.yaml")
    s.add_argument("--scale", help="override the config's scale (one of its `scales`)")
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("draft", help="build tables, plots and article from the runs that exist")
    s.add_argument("--config", default="config.yaml")
    s.add_argument("--out", default="draft", help="folder for the draft (default: draft/)")
    s.add_argument("--scale", help="override the config's scale (one of its `scales`)")
    s.set_defaults(func=cmd_draft)

    s = sub.add_parser("export", help="export the runs' curves (tensorboard)")
    s.add_argument("format", choices=["tensorboard"])
    s.add_argument("--out", default="tensorboard", help="folder for the event files (default: tensorboard/)")
    s.add_argument("--config", default="config.yaml")
    s.add_argument("--scale", help="override the config's scale (one of its `scales`)")
    s.add_argument("--only", nargs="*", help="experiments to export (default: all)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("bench", help="training samples/s: plain original-style loop vs ours "
                                     "(fp32 and the fast options)")
    s.add_argument("--seconds", type=float, default=4.0, help="timing per config and mode")
    s.add_argument("--threads", type=positive, default=1)
    s.add_argument("--only", nargs="*", help="substrings of config names to run")
    s.add_argument("--data", action="store_true", help="task generators instead: numpy stream vs per-sample python")
    s.add_argument("--convs", action="store_true",
                   help="the conv models' convolutions alone at a training step's shapes: their GFLOP/s ceiling")
    s.add_argument("--cores", type=positive,
                   help="scheduling instead: total samples/s of CORES split into jobs x threads")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (SettingsError, ConfigError, FileError, UsageError) as e:
        print(f"vslm: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file that cannot be read or written, a full disk
        where = f"{e.filename}: " if e.filename else ""
        print(f"vslm: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as e:
        print(f"vslm: error: a file is not UTF-8 text ({e.reason} at byte {e.start})", file=sys.stderr)
        return 2
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
