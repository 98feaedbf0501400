"""The article: our text per section, each experiment's table and plot, the original's
numbers beside ours, the claims checked on our numbers, and where the numbers came from."""
from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path

import markdown
import yaml

from .claims import check_claims
from .experiments import Experiment, all_runs, load_result
from .rundir import atomic_write
from .tables import build_rows

INTRO = """\
This article re-runs the experiments of four write-ups on *Very Small Language Models*
(selective copying, very selective copying, the corrected attention comparisons, and receptive
field versus self-attention) with the `vslm` pipeline. Every table below is built from this
repository's own training runs; the original's numbers stand beside ours in the columns marked
*(original)*. Training times and throughputs are hardware-specific and are not compared.
"""

BUG_NOTE = """\
**A note on the original's attention bug.** The first versions of the tables *self-invented
Q/K/V* (S2-T5) and *attention activation* (S2-T6) compared identical models: the `qkv` and
`attnact` settings did not reach the layers (the original's parameter counts are all equal).
They are shown here only through their corrected re-runs, C-T1 to C-T3.
"""


RECEPTIVE_FIELD = """\
How far a 3-layer convolution sees: an impulse passed through the stacked dilated kernels
(drawn by our code, as in the write-up). Kernel 7 without dilation reaches 9 cells to each side,
kernel 13 with dilations 5, 7, 1 reaches 78, wider than the 40-cell selective-copying area.
"""


def provenance(experiments: dict) -> str:
    devices, torches, seconds = Counter(), Counter(), 0.0
    for key in all_runs(experiments):
        r = load_result(key)
        if r and "provenance" in r:
            devices[f"{r['provenance']['device']} ({r['provenance']['device_name']})"] += 1
            torches[r["provenance"]["torch"]] += 1
            seconds += r["metrics"].get("train_time_s") or 0.0
    fmt = lambda c: ", ".join(f"{k} × {v}" for k, v in c.most_common()) or "none yet"  # noqa: E731
    return (f"Runs by device: {fmt(devices)}. Torch: {fmt(torches)}. "
            f"Summed training time of these runs: {seconds / 3600:.2f} h.")


def cell(text: str) -> str:
    """A markdown table cell: pipes in the text (e.g. |a - b|) escaped so they stay in the cell."""
    return str(text).replace("|", r"\|")


def section_markdown(exp: Experiment, rows: list[dict], table_md: str) -> str:
    done = sum(r["trials"] for r in rows)
    total = sum(len(r["_keys"]) for r in rows)
    parts = [f"### {exp.name}: {exp.spec['title']}", ""]
    if exp.spec.get("text"):
        parts += [exp.spec["text"], ""]
    if done < total:
        parts += [f"*Draft: {done} of {total} runs finished.*", ""]
    parts += [table_md, f"![{exp.name} error curves](../results/plots/{exp.name}.png)", ""]
    finished = [r for r in rows if r["trials"]]
    if finished and exp.name in ("S1-T1", "S2-T1", "R-T1"):
        best, worst = finished[-1], finished[0]
        for label, r in (("worst", worst), ("best", best)):
            parts += [f"Validation examples, {label} cell ({r['_keys'][0]}):", "",
                      f"![{label} examples](../results/runs/{r['_keys'][0]}/examples.png)", ""]
    return "\n".join(parts)


SECTIONS = Path(__file__).resolve().parent.parent / "workflow" / "report" / "sections.yaml"


def write_article(experiments: dict, config: dict, md_path: Path, html_path: Path,
                  sections_path: Path = SECTIONS) -> None:
    texts = yaml.safe_load(Path(sections_path).read_text()) or {}
    rows_by_exp = {name: build_rows(e) for name, e in experiments.items()}
    claims = check_claims(rows_by_exp)
    out = ["# Very Small Language Models, reproduced", "", INTRO,
           f"Scale: **{config['scale']}** ({config['scales'][config['scale']].get('note', '')}). "
           f"{provenance(experiments)}", ""]
    sections: dict[str, list[str]] = {}
    for name, e in experiments.items():
        table = Path(f"results/tables/{name}.md").read_text()
        sections.setdefault(e.spec["section"], []).append(section_markdown(e, rows_by_exp[name], table))
    for section, parts in sections.items():
        out += [f"## {section}", ""]
        if texts.get(section):
            out += [texts[section].strip(), ""]
        if section.startswith("Receptive field"):
            out += [RECEPTIVE_FIELD, "", "![receptive field](../results/plots/receptive-field.png)", ""]
        out += parts
        if section.startswith("Self-attention (corrected)"):
            out += [BUG_NOTE, ""]
        mine = [c for c in claims if c.section == section]
        if mine:
            out += ["#### Claims checked", "", "| claim | rule | our numbers | verdict |", "|---|---|---|---|"]
            out += ["| " + " | ".join(cell(v) for v in (c.text, c.rule, c.numbers, c.verdict)) + " |" for c in mine]
            out.append("")
    text = "\n".join(out) + "\n"
    atomic_write(Path(md_path), text)
    atomic_write(Path(html_path), to_html(text, Path(md_path).parent))


def to_html(text: str, base: Path) -> str:
    """Self-contained HTML: images inlined as data URIs."""
    body = markdown.markdown(text, extensions=["tables"])

    def inline(m):
        path = (base / m.group(1)).resolve()
        if not path.exists():
            return m.group(0)
        data = base64.b64encode(path.read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', inline, body)
    style = ("body{font-family:sans-serif;max-width:1400px;margin:auto;padding:1em}"
             "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 4px}"
             "img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>vslm article</title>"
            f"<style>{style}</style></head><body>{body}</body></html>\n")
