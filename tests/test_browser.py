"""The built site in a real browser: Chromium, driven by selenium, checked by axe-core.

Every page (the index and each example report) at a phone's width (390 px)
and a desktop's (1280 px): no axe-core violation, and the page itself never
scrolls sideways (wide tables and charts scroll inside their own boxes).  A
full-page screenshot of each is kept in ``test-artifacts/browser/`` (git-ignored;
``REPORTGEN_ARTIFACTS`` moves it).

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
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.golden import ROOT, build_example

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE_VERSION = "4.14.1"
WIDTHS = (390, 1280)
ARTIFACTS = Path(os.environ.get("REPORTGEN_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
AXE_DIR = ROOT / "test-artifacts" / "axe"
IN_CI = os.environ.get("CI", "").lower() == "true"


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
    """Every example report built as HTML and served on 127.0.0.1 (fonts load over
    http as they would from the real host; file:// would block them)."""
    output = build_example(tmp_path_factory.mktemp("browser") / "site", "html").parent
    handler = functools.partial(_QuietHandler, directory=str(output))
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
    return ["index.html"] + [f"{p.name}/index.html"
                             for p in sorted((ROOT / "reports").iterdir())
                             if (p / "report.yml").exists()]


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

    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)), e => done('error: ' + e));")
    assert not result.startswith("error"), result
    violations = json.loads(result)
    found = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert found == [], f"axe-core on {page} at {width} px"

    used = driver.execute_script(
        "return Array.from(document.fonts).filter(f => f.status === 'loaded')"
        ".map(f => f.family);")
    if page != "index.html":  # the charts' text is set in the shipped font, loaded
        assert any("Reportgen Sans" in family for family in used), used


def _screenshot(driver: Any, page: str, width: int, height: int) -> None:
    """A full-page PNG in ARTIFACTS: <report>-<width>.png."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(height, 16000), "deviceScaleFactor": 1,
        "mobile": width < 600})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = "index" if page == "index.html" else page.split("/")[0]
    driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
