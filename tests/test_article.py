"""Every number the committed article's prose states is checked against the run directories it
describes (not against the code that wrote it): budgets and trials per table, the runs and hours
in the header, the claims count, the draft markers."""
import json
import re
from collections import Counter
from pathlib import Path

import yaml

from vslm.columns import LABELS, label

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "report" / "article.md").read_text()
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())


def section(name: str, heading: str = "###") -> str:
    start = ARTICLE.index(f"{heading} {name}")
    end = ARTICLE.find("\n#", start + 1)
    return ARTICLE[start:end if end > 0 else None]


def run_keys(name: str) -> list[list[str]]:
    """Run keys per row, from the article's run-details table of experiment `name`."""
    rows = [line.split("|") for line in section(f"{name} runs").splitlines() if re.search(r"\b[0-9a-f]{12}\b", line)]
    return [re.findall(r"\b[0-9a-f]{12}\b", "|".join(r)) for r in rows]


def result(key: str) -> dict | None:
    path = ROOT / "results" / "runs" / key / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def millions(n: int) -> str:
    return f"{n / 1e6:.4g}M"


def test_each_table_states_the_budget_and_trials_its_runs_trained():
    for name in CONFIG["experiments"]:
        rows = run_keys(name)
        assert rows, name
        line = re.search(r"\*Ours: (.*) samples × (.*) trial\(s\) per cell; (?:original: (.*) × (\d+)|no table "
                         r"of the original's)\.\*", section(f"{name}:")).groups()
        finished = [result(k) for keys in rows for k in keys if result(k) and result(k)["status"] == "done"]
        trained = {millions(r["settings"]["samples"]) for r in finished}
        stated = {part.split(" (")[0] for part in line[0].split(" / ")}
        assert trained <= stated, (name, trained, stated)
        per_cell = {len(keys) for keys in rows} if not CONFIG["experiments"][name].get("per_trial") else None
        if per_cell:
            assert {int(p.split(" (")[0]) for p in line[1].split(" / ")} == per_cell, name
        if "reference" in CONFIG["experiments"][name]:
            assert int(line[3]) == CONFIG["experiments"][name].get("trials", 1)
        else:
            assert line[3] is None, name


def test_header_counts_runs_and_hours_of_the_runs():
    keys = {k for name in CONFIG["experiments"] for keys in run_keys(name) for k in keys}
    results = [r for r in map(result, keys) if r and "provenance" in r]
    devices = Counter(f"{r['provenance']['device']} {r['provenance']['device_name']}" for r in results)
    header = ARTICLE[:ARTICLE.index("[TOC]")] + section("Run details", "##")
    for device, n in devices.items():
        assert re.search(rf"{re.escape(device)} × {n}\b", header), (device, n)
    hours = sum(r["metrics"]["train_time_s"] for r in results) / 3600
    assert f"Summed training time of these runs: {hours:.2f} h." in header
    assert f"Scale: **{CONFIG['scale']}**" in header
    for commit, n in Counter((r["provenance"].get("git_commit") or "unknown")[:10] for r in results).items():
        assert f"{commit} × {n}" in header, (commit, n)


def test_claims_count_matches_the_verdicts_listed():
    glance = section("The claims at a glance", "##")
    verdicts = [line.split("|")[3].strip() for line in glance.splitlines() if re.match(r"\| \d+ \|", line)]
    held, failed, undecided = map(int, re.search(r"(\d+) of \d+ claims hold on our numbers, (\d+) do not and "
                                                 r"(\d+) are undecided", ARTICLE).groups())
    assert (held, failed, undecided) == (verdicts.count("✓ holds"), verdicts.count("✗ fails"),
                                         verdicts.count("? undecided"))
    assert held + failed + undecided == len(verdicts) == 11


def test_draft_markers_follow_the_runs():
    for name in CONFIG["experiments"]:
        keys = [k for row in run_keys(name) for k in row]
        done = sum(1 for k in keys if result(k) and result(k)["status"] == "done")
        marker = re.search(r"\*Draft: (\d+) of (\d+) runs finished\.\*", section(f"{name}:"))
        assert (marker is None) == (done == len(keys)), name
        if marker:
            assert marker.groups() == (str(done), str(len(keys)))


def test_first_below_samples_match_the_curves():
    """S2-T4's sentence on when each model first fell below its threshold, against curve.csv."""
    (col, threshold), = CONFIG["experiments"]["S2-T4"]["first_below"].items()
    sentence = re.search(rf"first validation with {re.escape(label(col))} below {threshold:g}: (.*)\.",
                         section("S2-T4:"))
    stated = [part.rsplit(": ", 1)[1] for part in sentence.group(1).split("; ")]
    expected = []
    for keys in run_keys("S2-T4"):
        for key in keys:
            lines = (ROOT / "results" / "runs" / key / "curve.csv").read_text().splitlines()
            head = lines[0].split(",")
            rows = [dict(zip(head, line.split(","))) for line in lines[1:]]
            below = [int(r["samples"]) for r in rows
                     if r["split"] == "validation" and float(r[col.removeprefix("validation_")]) < threshold]
            expected.append(millions(below[0]) if below else f"not by {millions(result(key)['samples'])}")
    assert stated == expected


def test_the_original_trainer_table_shows_the_runs_it_names():
    """Each value of the original's code run here is a snapshot.json of results/original-runs, each
    of ours a finished run's value, on the metric the row names."""
    if "### The original's own trainer, run here" not in ARTICLE:
        assert not list((ROOT / "results" / "original-runs").glob("*/snapshot.json"))
        return
    table = section("The original's own trainer, run here")
    rows = [line.split("|")[1:-1] for line in table.splitlines() if re.match(r"\| [A-Z]\d?-T\d+ ", line)]
    snapshots = [json.loads(p.read_text()) for p in (ROOT / "results" / "original-runs").glob("*/snapshot.json")]
    runs = [json.loads(p.read_text())["metrics"] for p in (ROOT / "results" / "runs").glob("*/metrics.json")
            if json.loads(p.read_text())["status"] == "done"]
    assert rows
    for row in rows:
        metric = {label(m): m for m in LABELS}[row[1].strip()]
        here = {f"{s['scalars'][metric]['value']:.3g}" for s in snapshots if metric in s["scalars"]}
        ours = {f"{r[metric]:.3g}" for r in runs}
        assert set(row[2].split(" (")[0].strip().split(", ")) <= here
        assert set(row[4].strip().split(", ")) <= ours
    machines = re.search(r"one thread on (.+?), beside our runs", table).group(1)
    for p in (ROOT / "results" / "original-runs").glob("*/provenance.json"):
        assert json.loads(p.read_text())["cpu"] in machines, p.parent.name


def shift_rows() -> dict:
    """The shift table's rows: group -> (cells, ours higher, geometric mean, by-table pairs)."""
    out = {}
    for line in section("The equal-budget shift").splitlines():
        if m := re.match(r"\| (one-run|several-run) \| (\d+) \| (\d+) \| (×[\d.]+) \|.*\| ([^|]*) \|$", line):
            pairs = [tuple(map(int, p)) for p in re.findall(r"[A-Z]\d?-T\d+ (\d+) of (\d+)", m[5])]
            out[m[1]] = (int(m[2]), int(m[3]), m[4], pairs)
    return out


def test_the_shift_table_adds_up():
    rows = shift_rows()
    assert rows
    for cells, worse, _, pairs in rows.values():
        assert sum(w for w, _ in pairs) == worse and sum(n for _, n in pairs) == cells


def test_every_table_reads_at_a_glance():
    """At most 12 columns, and numbers to 3 significant figures."""
    for path in (ROOT / "results" / "tables").glob("*.md"):
        header = next(line for line in path.read_text().splitlines() if line.startswith("|"))
        assert header.count("|") - 1 <= 12, path.name
        for number in re.findall(r"(?<![\d,])\d*\.\d+", path.read_text()):
            assert len(number.replace(".", "").lstrip("0")) <= 3, (path.name, number)


def test_every_figure_the_article_shows_is_there():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", ARTICLE)
    assert "../results/plots/summary.png" in images
    assert ARTICLE.index("summary.png") < ARTICLE.index("[TOC]")  # at the top, before the contents
    for image in images:
        assert (ROOT / "report" / image).resolve().read_bytes()[:4] == b"\x89PNG", image


def test_the_findings_agree_with_the_sections_they_sum_up():
    """'What we found', before the claims, repeats the claims count, the cell verdicts and the shift
    as the sections below state them."""
    found = section("What we found", "##")
    assert ARTICLE.index("## What we found") < ARTICLE.index("## The claims at a glance")
    assert len([line for line in found.splitlines() if line.startswith("- ")]) <= 7
    assert re.search(r"\d+ of \d+ claims hold on our numbers", found)
    how = section("How sure we can be", "##")
    counts = {m[1]: list(map(int, m[2].split(" | "))) for m in
              re.finditer(r"^\| (one-run|several-run) \| ([\d | ]+) \|$", how, re.M)}
    head = next(line for line in how.splitlines() if line.startswith("| original | consistent"))
    words = [w.strip() for w in head.split("|")[2:-1]]
    one, many = (dict(zip(words, counts[g])) for g in ("one-run", "several-run"))
    assert (f"Of {sum(one.values())} cells whose original is one run, {one['consistent']} are consistent" in found
            and f"and {one['inconsistent']} are not" in found)
    assert (f"of {sum(many.values())} cells whose original is a mean of several trials, {many['reproduced']} "
            f"reproduce" in found)
    for group, (cells, worse, geomean, _) in shift_rows().items():
        assert f"{group} originals, higher in {worse} of {cells} cells, {geomean} geometric mean" in found


def test_every_figure_has_a_caption_naming_its_rule_and_script():
    lines = ARTICLE.splitlines()
    figures = [i for i, line in enumerate(lines) if line.startswith("![")]
    assert len(figures) >= len(CONFIG["experiments"]) + 2  # a plot per experiment, the summary, the receptive field
    for i in figures:
        caption = next(line for line in lines[i + 1:] if line.strip())
        rule = re.search(r"Drawn by the `(\w+)` rule \(`workflow/scripts/(\w+)\.py`\)", caption)
        assert rule, lines[i]
        assert f"rule {rule[1]}:" in (ROOT / "workflow" / "rules" / "report.smk").read_text()
        assert (ROOT / "workflow" / "scripts" / f"{rule[2]}.py").exists()
