"""The charts as a reader sees them: Chromium at a 320 px screen and at a desktop's.

Over every chart of the site index, both example reports and the four-environment
fixture (tests/fixtures/four-env):

* at 320 px each environment's median mark lies inside its metric's plot area
  and every text of the chart is 11 px or more (its font size times the scale
  the page shows the SVG at);
* at 1280 px no chart text is larger than the page's body text;
* in the two examples (two environments each), wherever analysis.json has a
  difference (``worse`` or ``better``), the baseline's median mark and the
  environment's are at least 10% of the plot's width apart.

The marks are found by the ids charts.py gives them: ``<chart>-plot-<metric>``
on a plot area, ``<chart>-median-<metric>-<env>`` on a median's mark.  Uses the
browser of tests/test_browser.py, skipped without it except under CI.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from tests.golden import ROOT, build_example, cwd
from tests.test_browser import _QuietHandler, driver  # noqa: F401  (a fixture)

FOUR_ENV = ROOT / "tests" / "fixtures" / "four-env"
EXAMPLES = ("bhyve-smp", "firecracker-aa", "qemu-tcg")
PAGES = ("index.html", *(f"{r}/index.html" for r in EXAMPLES), "four-env/index.html")
SMALLEST_TEXT = 11.0  # px, at 320 px
APART = 0.10  # of the plot's width, between the medians of a difference

# Every chart of the page: its name, the scale it is shown at, its texts' sizes
# in px, and the boxes of its plot areas and median marks by id.
MEASURE = """
const body = parseFloat(getComputedStyle(document.body).fontSize);
return [body, Array.from(document.querySelectorAll('figure.chart svg')).map(svg => {
  const name = svg.closest('figure').id.replace(/^chart-/, '');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const box = el => { const r = el.getBoundingClientRect();
                      return [r.left, r.top, r.right, r.bottom]; };
  const marks = {};
  for (const g of svg.querySelectorAll('g[id]')) {
    const id = g.id.slice(name.length + 1);
    if (id.startsWith('plot-') || id.startsWith('median-')) marks[id] = box(g);
  }
  const texts = Array.from(svg.querySelectorAll('text')).map(
    t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale]);
  return {name: name, texts: texts, marks: marks};
})];
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The example site and the four-env fixture built as HTML side by side,
    served on 127.0.0.1; yields the base URL and the folder."""
    root = tmp_path_factory.mktemp("charts")
    build_example(root / "site", "html")
    with cwd(FOUR_ENV):
        result = CliRunner().invoke(main, ["build", "-o", str(root / "four"), "--formats",
                                           "html"])
    assert result.exit_code == 0, result.output
    (root / "site" / "four-env").symlink_to(root / "four" / "four-env")
    handler = functools.partial(_QuietHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root / "site"
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


def measure(browser: Any, url: str, width: int) -> tuple[float, list[dict[str, Any]]]:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    browser.get(url)
    browser.execute_async_script("document.fonts.ready.then(arguments[arguments.length - 1]);")
    body, found = browser.execute_script(MEASURE)
    return float(body), found


def analysis(folder: Path, page: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / page.split("/")[0] / "analysis.json").read_text())
    return data


@pytest.mark.parametrize("page", PAGES)
def test_charts_at_320_px(driver: Any, served: tuple[str, Path], page: str) -> None:  # noqa: F811
    url, folder = served
    _body, found = measure(driver, url + page, 320)
    if page == "index.html":
        assert found == []  # the index has no charts; nothing else to see
        return
    data = analysis(folder, page)
    envs = data["report"]["environments"]
    metrics = {c["metric"] for c in data["comparisons"]}
    problems = []
    plotted = set()
    for chart in found:
        small = [(text, round(px, 2)) for text, px in chart["texts"] if px < SMALLEST_TEXT]
        if small:
            problems.append(f"{chart['name']}: text under {SMALLEST_TEXT} px: {small}")
        if chart["name"] == "overview":
            continue
        marks = chart["marks"]
        for plot_id, (left, top, right, bottom) in marks.items():
            if not plot_id.startswith("plot-"):
                continue
            metric = plot_id.removeprefix("plot-")
            plotted.add(metric)
            for env in envs:
                mark = marks.get(f"median-{metric}-{env}")
                if mark is None:
                    problems.append(f"{chart['name']}: no median mark for {metric}, {env}")
                    continue
                x = (mark[0] + mark[2]) / 2
                y = (mark[1] + mark[3]) / 2
                if not (left <= x <= right and top <= y <= bottom):
                    problems.append(f"{chart['name']}: the median of {metric}, {env} at "
                                    f"({x:.1f}, {y:.1f}) is outside its plot "
                                    f"{[round(v, 1) for v in (left, top, right, bottom)]}")
    assert plotted == metrics, "every compared metric has a plot"
    assert problems == []


@pytest.mark.parametrize("page", PAGES[1:])
def test_chart_text_no_larger_than_the_body_at_1280_px(
        driver: Any, served: tuple[str, Path], page: str) -> None:  # noqa: F811
    url, _folder = served
    body, found = measure(driver, url + page, 1280)
    assert found
    large = [(chart["name"], text, round(px, 2)) for chart in found
             for text, px in chart["texts"] if px > body + 0.01]
    assert large == [], f"body text is {body} px"


@pytest.mark.parametrize("report", EXAMPLES)
def test_differences_are_visibly_apart_at_320_px(
        driver: Any, served: tuple[str, Path], report: str) -> None:  # noqa: F811
    url, folder = served
    _body, found = measure(driver, url + f"{report}/index.html", 320)
    data = analysis(folder, report)
    baseline = data["report"]["baseline"]
    marks = {f"{c['name']}/{k}": v for c in found if c["name"] != "overview"
             for k, v in c["marks"].items()}
    differences = [c for c in data["comparisons"] if c["verdict"] in ("worse", "better")]
    checked, problems = 0, []
    for c in differences:
        metric, env = c["metric"], c["env"]
        chart = next(k.split("/")[0] for k in marks if k.endswith(f"/plot-{metric}"))
        left, _top, right, _bottom = marks[f"{chart}/plot-{metric}"]
        base = marks[f"{chart}/median-{metric}-{baseline}"]
        other = marks[f"{chart}/median-{metric}-{env}"]
        apart = abs((base[0] + base[2]) / 2 - (other[0] + other[2]) / 2) / (right - left)
        checked += 1
        if apart < APART:
            problems.append(f"{metric}: {baseline} and {env} ({c['verdict']}, "
                            f"{c['slowdown']}x) are {apart:.1%} of the plot apart")
    assert problems == []
    if report == "bhyve-smp":
        assert checked >= 9  # every result but one is a difference there
