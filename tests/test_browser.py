"""The committed article in a real browser (headless Chromium at 1280 px): every image loads, no
table spills out of its scroll box or the page, no console errors, the summary figure at least
900 px wide, the findings on the first screen; a full-page screenshot, the first screen and the
page's top (findings, claims, summary figure) are kept in test-artifacts/."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")

CHECK = """<script>
window.addEventListener("load", () => {
  const W = window.innerWidth, out = {width: W, height: document.documentElement.scrollHeight};
  out.images = [...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}));
  out.tables = [...document.querySelectorAll("table")].map(t => {
    const box = t.closest(".scroll");
    return {boxed: !!box, inside: !!box && box.getBoundingClientRect().right <= W + 0.5,
            first: t.rows[0] && t.rows[0].cells[0] ? t.rows[0].cells[0].textContent : ""};
  });
  out.page_overflow = document.documentElement.scrollWidth > W;
  const found = document.getElementById("what-we-found");
  out.findings_top = found ? found.getBoundingClientRect().top + window.scrollY : null;
  const summary = [...document.images].find(i => i.alt.startsWith("Every cell with an original value"));
  if (summary) {
    const r = summary.getBoundingClientRect();
    out.summary = {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, width: r.width, right: r.right};
  }
  document.body.setAttribute("data-check", JSON.stringify(out));
});
</script></body>"""


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", *args],
                          capture_output=True, text=True, timeout=180)


def test_article_renders_in_chromium(tmp_path):
    page = tmp_path / "article.html"
    page.write_text((ROOT / "report" / "article.html").read_text().replace("</body>", CHECK, 1))
    dom = chromium("--window-size=1280,900", "--dump-dom", page.as_uri())
    found = re.search(r'data-check="([^"]*)"', dom.stdout)
    assert found, dom.stderr[-2000:]
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert check["width"] == 1280
    assert check["images"] and all(i["ok"] for i in check["images"]), [i for i in check["images"] if not i["ok"]]
    assert check["tables"] and all(t["boxed"] and t["inside"] for t in check["tables"])
    assert not check["page_overflow"]
    errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert not errors, errors
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "article-1280.png"
    chromium(f"--window-size=1280,{min(check['height'], 16000)}", f"--screenshot={shot}",
             (ROOT / "report" / "article.html").as_uri())
    assert shot.read_bytes()[:4] == b"\x89PNG"
    # the top of the page: the findings, the claims at a glance and the summary figure, readable at 1280 px
    summary = check["summary"]
    assert summary["right"] <= 1280 and summary["width"] >= 900, summary
    top = ARTIFACTS / "article-top-1280.png"
    chromium(f"--window-size=1280,{int(summary['bottom']) + 20}", f"--screenshot={top}",
             (ROOT / "report" / "article.html").as_uri())
    assert top.read_bytes()[:4] == b"\x89PNG"
    # the first screen a reader sees opens with the findings
    assert check["findings_top"] is not None and check["findings_top"] < 450, check["findings_top"]
    first = ARTIFACTS / "article-first-screen.png"
    chromium("--window-size=1280,900", f"--screenshot={first}", (ROOT / "report" / "article.html").as_uri())
    assert first.read_bytes()[:4] == b"\x89PNG"
