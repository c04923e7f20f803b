"""The built site in a real browser: Chromium, driven by selenium, checked by axe-core.

Every page (the index and each report of the example site, the reports of
its example series that follow another and the series page, and the
four-environment fixture's report and its index, which a copy of the report
dated a month earlier gives a history of shared metrics) at the
narrowest phone we design for (320 px), a common phone (390 px) and a
desktop (1280 px):

* no axe-core violation;
* the page itself never scrolls sideways, and neither does any table or the
  box around it: each table fits its column (below 48rem its rows are stacked
  blocks, docs/html.md);
* every badge and the reason written beside it lie inside the viewport and
  inside every box that could clip them, so a verdict never needs scrolling to
  be read;
* every badge says its verdict in words: its text, the visually hidden part
  included, begins with the verdict its class colours it by;
* in a stacked table the verdict comes first, above the figures.

A full-page screenshot of each is kept in ``test-artifacts/browser/``
(git-ignored; ``REPORTGEN_ARTIFACTS`` moves it).

Chromium and its driver come from Debian's packages (``chromium``,
``chromium-driver``); axe-core from the npm registry, pinned to AXE_VERSION and
installed on first use into ``test-artifacts/axe/``.  Without them the tests
are skipped with the reason, except under CI (``CI=true``), where they fail:
.ci/run installs them.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from tests.golden import ROOT, build_example, cwd

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE_VERSION = "4.14.1"
WIDTHS = (320, 390, 1280)
STACKED_BELOW = 768  # px: docs/html.md, the 48rem breakpoint of style.css
ARTIFACTS = Path(os.environ.get("REPORTGEN_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
AXE_DIR = ROOT / "test-artifacts" / "axe"
IN_CI = os.environ.get("CI", "").lower() == "true"
FOUR_ENV = ROOT / "tests" / "fixtures" / "four-env"
# The example series: part of the example site (site.yml lists it).
CONTENTION = ROOT / "examples" / "contention"

# The words that open a badge's accessible name, by the verdict it is coloured by.
VERDICT_WORDS = {"worse": "worse", "better": "better", "same": "same",
                 "inconclusive": "inconclusive", "not-comparable": "not comparable",
                 "none": "no result"}


def unavailable(reason: str) -> None:
    """Skip locally; under CI a missing browser is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def axe_source() -> str:
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed (needed once for axe-core)")
        assert npm is not None
        done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund",
                               "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}"],
                              check=False, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            unavailable(f"npm could not install axe-core@{AXE_VERSION}: {done.stderr.strip()}")
    return script.read_text()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        unavailable("Chromium is not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never download anything
    profile = tempfile.mkdtemp(prefix="reportgen-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example site (under examples/) and the four-environment fixture (under
    four-env/) built as HTML and served on 127.0.0.1 (fonts load over http as
    they would from the real host; file:// would block them).  The fixture's
    site gets a copy of its report dated a month earlier, so that its index
    has the history of shared metrics with its tables."""
    root = tmp_path_factory.mktemp("browser")
    build_example(root / "examples", "html")
    project = root / "four-env-project"
    shutil.copytree(FOUR_ENV, project, ignore=shutil.ignore_patterns("output"))
    earlier = project / "reports" / "earlier"
    shutil.copytree(project / "reports" / "four-env", earlier)
    yml = (earlier / "report.yml").read_text()
    dated = re.sub(r"^date: (\d{4})-(\d\d)", lambda m: f"date: {m[1]}-{int(m[2]) - 1:02d}", yml,
                   count=1, flags=re.MULTILINE)
    assert dated != yml
    (earlier / "report.yml").write_text(dated)
    with cwd(project):
        result = CliRunner().invoke(main, ["build", "-o", str(root / "four-env"),
                                           "--formats", "html"])
    assert result.exit_code == 0, result.output
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def pages() -> list[str]:
    examples = [f"examples/{p.name}/index.html" for p in sorted((ROOT / "reports").iterdir())
                if (p / "report.yml").exists()]
    # the example series: the reports that follow another (the first has one
    # environment and nothing to follow: no badge) and its page
    series = sorted(p.name for p in CONTENTION.iterdir() if (p / "report.yml").exists())
    assert len(series) >= 4, series
    examples += [f"examples/{name}/index.html" for name in series[1:]]
    examples += [f"examples/series/{series[0]}/index.html"]
    four = [f"four-env/{p.name}/index.html" for p in sorted((FOUR_ENV / "reports").iterdir())
            if (p / "report.yml").exists()]
    return ["examples/index.html", *examples, "four-env/index.html", *four]


# What the page looks like to the checks below, measured in the browser.
MEASURE = """
const vw = document.documentElement.clientWidth;
const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.right]; };
const name = el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
  + ' "' + el.textContent.trim().slice(0, 40) + '"';
const clipper = el => {  // the nearest box that cuts off part of el, sideways
  const [left, right] = box(el);
  for (let a = el.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX === 'visible') continue;
    const [l, r] = box(a);
    if (left < l - 0.5 || right > r + 0.5) return name(a);
  }
  return null;
};
const out = {outside: [], clipped: [], scrolled: [], wider: [], unnamed: [], late: []};
for (const el of document.querySelectorAll('.badge, .reason')) {
  const [left, right] = box(el);
  if (left < 0 || right > vw) out.outside.push([name(el), left, right, vw]);
  const by = clipper(el);
  if (by) out.clipped.push([name(el), by]);
}
for (const el of document.querySelectorAll(
    '.table-wrap, table, table > * > tr, table > * > tr > th, table > * > tr > td')) {
  if (el.scrollWidth > el.clientWidth + 1) out.scrolled.push([name(el), el.scrollWidth, el.clientWidth]);
}
for (const t of document.querySelectorAll('table')) {
  const width = t.getBoundingClientRect().width, room = t.parentElement.clientWidth;
  if (width > room + 0.5) out.wider.push([name(t), width, room]);
}
for (const b of document.querySelectorAll('.badge')) {
  const verdict = [...b.classList].find(c => c.startsWith('verdict-'));
  out.unnamed.push([verdict ? verdict.slice(8) : null, b.textContent]);
}
for (const cell of document.querySelectorAll('table.stack td.verdict')) {
  const row = cell.parentElement, top = cell.getBoundingClientRect().top;
  for (const other of row.querySelectorAll('td[data-label]'))
    if (other.getBoundingClientRect().top < top - 0.5) out.late.push([name(row), name(other)]);
}
return out;
"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", pages())
def test_page_in_chromium(driver: Any, axe_source: str, site: str, page: str,
                          width: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.get(site + page)
    driver.execute_async_script("document.fonts.ready.then(arguments[arguments.length - 1]);")

    sizes = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth,"
        " document.documentElement.scrollHeight];")
    _screenshot(driver, page, width, sizes[2])
    assert sizes[0] <= sizes[1], f"{page} at {width} px scrolls sideways: {sizes[0]} > {sizes[1]}"

    found = driver.execute_script(MEASURE)
    where = f"{page} at {width} px"
    if page == "four-env/index.html":  # the copy dated earlier gives it a history
        assert driver.execute_script("return document.querySelectorAll('.history-table').length")
    assert found["outside"] == [], f"{where}: badges or reasons off-screen"
    assert found["clipped"] == [], f"{where}: badges or reasons cut off by a box"
    assert found["scrolled"] == [], f"{where}: a table or its box scrolls"
    assert found["wider"] == [], f"{where}: a table wider than its container"
    badges = found["unnamed"]
    assert badges, f"{where}: no badge at all"
    wordless = [(verdict, text) for verdict, text in badges
                if verdict not in VERDICT_WORDS or not text.startswith(VERDICT_WORDS[verdict])]
    assert wordless == [], f"{where}: badges that do not say their verdict in words"
    if width < STACKED_BELOW:
        assert found["late"] == [], f"{where}: a figure above its row's verdict"

    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)), e => done('error: ' + e));")
    assert not result.startswith("error"), result
    violations = json.loads(result)
    problems = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert problems == [], f"axe-core on {where}"

    used = driver.execute_script(
        "return Array.from(document.fonts).filter(f => f.status === 'loaded')"
        ".map(f => f.family);")
    if page.count("/") > 1:  # a report page: its charts' text is set in the shipped font
        assert any("Reportgen Sans" in family for family in used), used


def _screenshot(driver: Any, page: str, width: int, height: int) -> None:
    """A full-page PNG in ARTIFACTS: <site>-<page>-<width>.png."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(height, 16000), "deviceScaleFactor": 1,
        "mobile": width < 600})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    parts = page.split("/")
    name = f"{parts[0]}-index" if len(parts) == 2 else f"{parts[0]}-{parts[1]}"
    driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
