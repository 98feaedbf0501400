"""The documented path for a new claim works: a claim registered in vslm/claims.py of a fresh clone
appears, judged, in the article built there."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOY = '''

@claim("Self-attention", "A toy claim: attention in the last of 3 layers errs below 50 %.",
       "sample error < 50 % (S2-T7)", "a test of the extension path")
def _toy(C):
    v = [C.number("S2-T7", "attn 0,0,T", attn="0,0,T")]
    return v, [threshold(v[0], "<", 50)]
'''
BUILD = '''
import json
from vslm.article import write_article
from vslm.experiments import read_records
from vslm.judged import judge_all, write_judged
spec = json.load(open("results/specs/article.json"))
names = spec["experiments"]
exps = read_records([f"results/specs/{n}.json" for n in names])
write_judged("out/judged.json", judge_all(exps, "workflow/verdicts.yaml", "workflow/plan.yaml",
                                             "workflow/report/text.yaml"))
write_article(exps, spec["scale"], spec["note"], "out/article.md", "out/article.html",
              "workflow/report/sections.yaml", "workflow/report/text.yaml", "out/judged.json",
              {n: f"results/tables/{n}.md" for n in names}, {n: f"results/plots/{n}.png" for n in names},
              "results/plots/receptive-field.png", "results/plots/summary.png")
'''


def test_a_claim_added_in_a_clone_appears_in_its_article(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    claims = clone / "vslm" / "claims.py"
    text = claims.read_text()
    head, tail = text.split("\n\ndef _reproduced(", 1)
    claims.write_text(head + TOY + "\n\ndef _reproduced(" + tail)
    out = subprocess.run([sys.executable, "-c", BUILD], cwd=clone, capture_output=True, text=True, timeout=600,
                         env={"PYTHONPATH": str(clone), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    article = (clone / "out" / "article.md").read_text()
    line = next(x for x in article.splitlines() if "A toy claim" in x and x.startswith("| 12 |"))
    assert "✓ holds" in line and "attn 0,0,T: " in line
