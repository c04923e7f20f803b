"""SVG charts: one per section, an overview, alt text with numbers, same bytes every build."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest

from reportgen import charts, figures
from reportgen.analysis import Analysis, analyse
from tests.test_html_support import report

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}svg"


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return analyse(report(("native", "guest", "jail")))


def test_one_chart_per_section_in_order(analysis: Analysis) -> None:
    drawn = charts.section_charts(analysis)
    assert [c.name for c in drawn] == ["s1.svg", "s2.svg", "s3.svg"]
    for chart in drawn:
        assert ET.fromstring(chart.svg).tag == SVG


def test_section_alt_text_states_every_median(analysis: Analysis) -> None:
    first, second, third = charts.section_charts(analysis)
    assert "getpid() latency (lower is better): native 46 ns, guest 182 ns (~4x), " \
           "jail 46.2 ns (same)" in first.alt
    assert "sysbench memory write" in second.alt and "sysbench memory read" in second.alt
    assert "jail failed" in third.alt


def test_overview_alt_text_and_colours(analysis: Analysis) -> None:
    chart = charts.overview_chart(analysis)
    assert chart.name == "overview.svg"
    assert "log scale" in chart.alt
    svg = chart.svg.decode()
    for c in analysis.comparisons:
        assert f"{figures.ratio(c.slowdown)} ({c.tier})" in chart.alt
        assert f"fill: {charts.TIER_COLOURS[c.tier]}" in svg


def test_bars_wear_tier_colours_and_the_baseline_grey(analysis: Analysis) -> None:
    svg = charts.section_charts(analysis)[2].svg.decode()
    assert f"fill: {charts.BASELINE_COLOUR}" in svg
    assert f"fill: {charts.TIER_COLOURS['severe']}" in svg


def test_no_date_in_the_svg(analysis: Analysis) -> None:
    assert b"<dc:date>" not in charts.overview_chart(analysis).svg


def test_user_rc_params_neither_leak_in_nor_get_changed(analysis: Analysis) -> None:
    before = charts.overview_chart(analysis).svg
    with matplotlib.rc_context({"font.size": 30, "svg.hashsalt": "other",
                                "axes.facecolor": "black"}):
        during = charts.overview_chart(analysis).svg
        assert matplotlib.rcParams["font.size"] == 30
    assert during == before


def test_empty_overview_still_draws() -> None:
    nothing = analyse(report(("native",)))
    chart = charts.overview_chart(nothing)
    assert ET.fromstring(chart.svg).tag == SVG
    assert "No comparisons." in chart.alt


SCRIPT = """
import hashlib, sys
from reportgen import charts, render_html
from reportgen.analysis import analyse, card
from tests.test_html_support import report
a = analyse(report(("native", "guest", "jail")))
drawn = charts.section_charts(a) + [charts.overview_chart(a)]
html = render_html.render_report(a, drawn, render_html.Links(("pdf",), ("native.json",)))
index = render_html.render_index("x", [card(a)], {})
for blob in [c.svg for c in drawn] + [html.encode(), index.encode()]:
    print(hashlib.sha256(blob).hexdigest())
"""


def build_digests(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def test_two_builds_give_the_same_bytes() -> None:
    # Separate processes with different hash seeds: no set/dict-order or id() leaks.
    first, second = build_digests("1"), build_digests("2")
    assert first == second
    assert len(first.split()) == 6


def test_svg_names_reportgen_and_the_chart_but_no_version(analysis: Analysis) -> None:
    chart = charts.overview_chart(analysis)
    svg = chart.svg.decode()
    assert "<dc:title>reportgen</dc:title>" in svg
    assert "Matplotlib v" not in svg and "https://" not in svg


def test_hostile_names_keep_the_svg_well_formed() -> None:
    r = report()
    hostile = "</title><script>alert(1)</script>&"
    envs = tuple(dataclasses.replace(e, metrics={k: dataclasses.replace(m, name=hostile)
                                                 for k, m in e.metrics.items()})
                 for e in r.environments)
    a = analyse(dataclasses.replace(r, environments=envs))
    for chart in charts.section_charts(a) + [charts.overview_chart(a)]:
        root = ET.fromstring(chart.svg)
        assert not root.findall(".//{http://www.w3.org/2000/svg}script")
