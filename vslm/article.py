"""The article: our text per section, each experiment's budget, table and plot with the original's
numbers beside ours, the claims with both verdicts, and where the numbers came from. Every number
in it is computed from the runs, the config or the reference tables."""
from __future__ import annotations

import base64
import html
import os
import re
from collections import Counter
from pathlib import Path

import markdown
import yaml
from tabulate import tabulate

from .columns import METRICS, label
from .curves import first_below
from .experiments import all_runs, cell_label
from .files import atomic_write, read_text
from .judged import read_judged
from .paths import RUNS_DIR
from .reference import reference_names
from .rows import Row, build_rows, original_place
from .rundir import load_result
from .settings import format_samples
from .tables import BELOW, Table
from .verdicts import INCONSISTENT, NOT_REPRODUCED, ROW_VERDICTS
from .wording import Wording

EXAMPLES = 3  # validation samples shown per example cell



def _counts(counter: Counter, unit: str = "") -> str:
    return " / ".join(f"{k}{unit}" + (f" ({n} rows)" if len(counter) > 1 else "") for k, n in sorted(counter.items()))


def provenance(experiments: dict, results: dict) -> str:
    """Devices, torch versions, code commits, dates and summed training time of the finished runs
    (`results`: run key -> result)."""
    devices, torches, commits, dates, seconds, dirty = Counter(), Counter(), Counter(), [], 0.0, 0
    for key in all_runs(experiments):
        r = results.get(key)
        if r and "provenance" in r:
            p = r["provenance"]
            devices[f"{p['device']} {p['device_name']}"] += 1
            torches[p["torch"]] += 1
            commits[(p.get("git_commit") or "unknown")[:10]] += 1
            dirty += p.get("git_dirty") is True
            dates.append(p.get("finished", "")[:10])
            seconds += r["metrics"].get("train_time_s") or 0.0
    fmt = lambda c: ", ".join(f"{k} × {v}" for k, v in c.most_common()) or "none yet"  # noqa: E731
    span = f"{min(dates)} to {max(dates)}" if dates else "none yet"
    return (f"Runs by device: {fmt(devices)}. Torch: {fmt(torches)}. Trained {span}, by vslm at code commit "
            f"(runs) {fmt(commits)}" + (f"; {dirty} of the runs from a checkout with uncommitted changes" if dirty
                                         else "") + f". Summed training time of these runs: {seconds / 3600:.2f} h.")


def budget_line(table: Table) -> str:
    """Ours: samples × trials per cell; the original's beside it (computed, per table)."""
    exp, rows = table.exp, table.rows
    ours = Counter(format_samples(r.settings["samples"]) for r in rows)
    trials = Counter(len(c.runs) for c in exp.cells)
    original = Counter(format_samples(c.original_samples) for c in exp.cells)
    theirs = f"original: {_counts(original)} × {exp.original_trials}" if reference_names(exp.spec) else \
        "no table of the original's"
    return f"*Ours: {_counts(ours)} samples × {_counts(trials)} trial(s) per cell; {theirs}.*"


def summary_line(table: Table) -> str:
    """The cells' verdicts (workflow/verdicts.yaml) on the columns rows are judged on, one per cell
    (a per-trial table shows a cell in several rows, and states each cell's verdict here); cells
    below the original's budget are listed apart and not counted."""
    cols = table.judged
    cells = {cell_label_row(r): table.verdict(r) for r in table.rows if r.trials}  # cell -> (verdict, interval)
    below = [c for c, (v, _) in cells.items() if v == BELOW]
    judged = Counter(v for v, _ in cells.values() if v in ROW_VERDICTS)
    if not judged and not below:
        return ""
    text = (f"Verdicts ({', '.join(map(label, cols))}; cells at the original budget, each from all our trials): " +
            ", ".join(f"{judged[v]} {v}" for v in ROW_VERDICTS if judged[v]))
    if table.exp.spec.get("per_trial"):
        text += " (" + "; ".join(f"{c}: {v}: {i}" if i else f"{c}: {v}" for c, (v, i) in cells.items()
                                 if v in ROW_VERDICTS) + ")"
    else:
        for word in (INCONSISTENT, NOT_REPRODUCED):
            if missed := [c for c, (v, _) in cells.items() if v == word]:
                text += f" ({word}: " + "; ".join(missed) + ")"
    if below:
        text += f"; {len(below)} cells below the original's budget are not judged"
    return text + "."


def place_line(table: Table) -> str:
    """Per spread column: in which rows the original's value lies inside, below or above our trials."""
    sentences = []
    for col in table.spread:
        places: dict[str, list[str]] = {}
        for r in table.rows:
            if place := original_place(r.original.get(col, float("nan")), r.values.get(col, [])):
                places.setdefault(place, []).append(cell_label(r.cell))
        if places:
            sentences.append(f"{label(col)}: " + "; ".join(
                f"{place} in {len(labels)} of {sum(map(len, places.values()))} rows ({', '.join(labels)})"
                for place, labels in sorted(places.items())))
    return "The original's value among our trials (min to max), " + "; ".join(sentences) + "." if sentences else ""


def first_below_line(table: Table, root: Path) -> str:
    """Per `first_below` column and finished row: the training samples at the first validation
    below the threshold (one value per trial), or 'not by' the run's budget."""
    exp, rows, sentences = table.exp, table.rows, []
    for col, threshold in exp.spec.get("first_below", {}).items():
        cells = []
        for r in rows:
            found = [first_below(k, METRICS[col][0], threshold, root) for k in r.done_keys]
            budget = format_samples(r.settings["samples"])
            if found:
                cells.append(f"{cell_label(r.cell)}: " + " / ".join(
                    format_samples(n) if n else f"not by {budget}" for n in found))
        if cells:
            sentences.append(f"Training samples at the first validation with {label(col)} below {threshold:g}: "
                             + "; ".join(cells) + ".")
    return " ".join(sentences)


def cell_label_row(row: Row) -> str:
    label = cell_label(row.cell)
    below = row.settings["samples"] < row.cell.original_samples
    return label + (f" (at {format_samples(row.settings['samples'])} of {format_samples(row.cell.original_samples)})"
                    if below else "")


def section_markdown(table: Table, table_md: str, links: dict, caption: str, root: Path) -> str:
    """`table_md`: the table rule's markdown; `links`: the plot's and the runs folder's paths
    relative to the article; `caption`: the plot's; `root`: the repository the runs are in."""
    exp, rows = table.exp, table.rows
    done = sum(r.trials for r in rows)
    total = sum(len(r.keys) for r in rows)
    parts = [f"### {exp.name}: {exp.spec['title']}", "", budget_line(table), ""]
    if exp.spec.get("text"):
        parts += [exp.spec["text"], ""]
    if done < total:
        parts += [f"*Draft: {done} of {total} runs finished.*", ""]
    parts += [table_md, ""]
    for line in (summary_line(table), place_line(table), first_below_line(table, root)):
        if line:
            parts += [line, ""]
    parts += [f"![{exp.name} error curves]({links['plot']})", "", caption, ""]
    finished = [r for r in rows if r.trials]
    if finished and exp.spec.get("examples"):
        for label, r in (("worst", finished[0]), ("best", finished[-1])):
            run = f"{links['runs']}/{r.keys[0]}"
            parts += [f"Validation examples, {label} cell ({cell_label(r.cell)}; all 64: "
                      f"[image]({run}/examples.png), [text]({run}/examples.txt)):", "",
                      *("    " + line for line in example_lines(Path(links["runs_root"], r.keys[0]))), ""]
    return "\n".join(parts)


def example_lines(run_dir: Path, samples: int = EXAMPLES) -> list[str]:
    """The first samples of a run's examples.txt (target, input, output, wrong marks)."""
    try:
        blocks = read_text(Path(run_dir, "examples.txt")).split("\n\n")
    except OSError:
        return ["(no examples.txt)"]
    return "\n\n".join(blocks[:samples]).splitlines()


def glossary(terms: dict) -> list[str]:
    """The terms of workflow/report/sections.yaml's glossary, one line each."""
    if not terms:
        return []
    return ["**Terms.** " + "; ".join(f"*{k}*: {v}" for k, v in terms.items())
            + ".", ""]


def run_details(tables: dict[str, Table], experiments: dict, results: dict) -> list[str]:
    out = ["## Run details", "", provenance(experiments, results), "", "Training time, throughput "
           "(hardware-specific) and run keys (directories under `results/runs/`) of every row.", ""]
    for name, table in tables.items():
        frame = table.details()
        out += [f"### {name} runs", "", tabulate(frame, headers="keys", tablefmt="github", showindex=False), ""]
    return out


def write_article(experiments: dict, scale: str, note: str, md_path: Path, html_path: Path,
                  sections_path: Path, wording_path: Path, judged_path: Path, table_files: dict, plots: dict,
                  receptive: Path, summary: Path, results: dict | None = None, root: Path = Path(".")) -> None:
    """`table_files`, `plots`: experiment name -> its markdown table and png (the rules' outputs);
    `judged_path`: the judging job's file (results/judged.json), whose verdicts and judged parts the
    article shows; `results`: the runs' results (`vslm.rundir.results_at` of the job's input), or
    else read under `root` (as are the curves and validation examples)."""
    md_dir = Path(md_path).parent
    texts = yaml.safe_load(read_text(sections_path)) or {}
    judged = read_judged(judged_path)
    parts = judged["markdown"]
    if results is None:
        results = {key: load_result(key, root) for key in all_runs(experiments)}
    tables = {name: Table(e, build_rows(e, root, results), judged["rows"].get(name, {}))
              for name, e in experiments.items()}
    say = Wording(wording_path)
    out = ["# Very Small Language Models, reproduced", "", say("intro"), "", f"Scale: **{scale}** ({note}).", ""]
    out += [parts["findings"], parts["glance"], *glossary(texts.get("glossary") or {})]
    out += [f"![Every cell with an original value: ours against the original's]({os.path.relpath(summary, md_dir)})",
            "", say("summary_caption"), "", "[TOC]", ""]
    sections: dict[str, list[str]] = {}
    for name, e in experiments.items():
        table = read_text(table_files[name])
        links = {"plot": os.path.relpath(plots[name], md_dir), "runs_root": Path(root) / RUNS_DIR,
                 "runs": os.path.relpath(Path(root) / RUNS_DIR, md_dir)}
        sections.setdefault(e.spec["section"], []).append(
            section_markdown(tables[name], table, links, say("plot_caption", name=name), root))
    for section, section_parts in sections.items():
        out += [f"## {section}", ""]
        text = texts.get(section) or {}
        if text.get("text"):
            out += [text["text"].strip(), ""]
        if text.get("receptive_field"):
            out += [text["receptive_field"].strip(), "",
                    f"![receptive field]({os.path.relpath(receptive, md_dir)})", "", say("receptive_caption"), ""]
        out += section_parts
        if text.get("after"):
            out += [text["after"].strip(), ""]
        if section in parts["sections"]:
            out.append(parts["sections"][section])
    out += [parts["discussion"]] + run_details(tables, experiments, results)
    text = "\n".join(out) + "\n"
    atomic_write(Path(md_path), text)
    atomic_write(Path(html_path), to_html(text, md_dir, [Path(root) / "results", md_dir]))


MAX_IMAGE_BYTES = 5_000_000  # per inlined PNG (the article's largest plot is ~0.4 MB)
SAFE_LINK = re.compile(r"^(https?://|#|[^:]*$)")  # web, anchors, relative paths: no other schemes


def to_html(text: str, base: Path, image_dirs: list[Path]) -> str:
    """Self-contained HTML: png images inside `image_dirs` (the pipeline's outputs, real PNGs of at
    most MAX_IMAGE_BYTES) inlined as data URIs, any other image dropped; links only to http(s) or
    anchors; tables in scrolling boxes."""
    md = markdown.Markdown(extensions=["tables", "toc"])
    md.preprocessors.deregister("html_block")  # raw HTML in the text is shown as text, never rendered
    md.inlinePatterns.deregister("html")
    body = md.convert(text)
    allowed = [Path(d).resolve() for d in image_dirs]

    def inline(m):
        path = (base / html.unescape(m.group(1))).resolve()
        if path.suffix != ".png" or not any(path.is_relative_to(d) for d in allowed) or not path.is_file() \
                or path.stat().st_size > MAX_IMAGE_BYTES:
            return 'src=""'
        data = path.read_bytes()
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):  # a file named .png that is no PNG
            return 'src=""'
        return f'src="data:image/png;base64,{base64.b64encode(data).decode()}"'

    body = re.sub(r'src="([^"]*)"', inline, body)
    body = re.sub(r'href="([^"]*)"', lambda m: m.group(0) if SAFE_LINK.match(html.unescape(m.group(1)))
                  else 'href="#"', body)
    body = body.replace("<table>", '<div class="scroll"><table>').replace("</table>", "</table></div>")
    style = ("body{font-family:sans-serif;max-width:1240px;margin:auto;padding:1em}"
             ".scroll{overflow-x:auto;max-width:100%;margin-bottom:1em}"
             "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 4px}"
             "th:first-child,td:first-child{position:sticky;left:0;background:#fff}"
             "img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>vslm article</title>"
            f"<style>{style}</style></head><body>{body}</body></html>\n")
