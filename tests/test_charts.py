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

from reportgen.analyse.analysis import Analysis, analyse
from reportgen.core import figures
from reportgen.render import charts
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
    assert "getpid() latency (lower is better): native 46.0 ns, guest 182 ns (~4x), " \
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
    texts = svg_texts(chart.svg)
    # The thresholds are named in the legend, each tier shown is too.
    assert {"moderate from 1.15x", "severe from 10.0x", "1x: no difference"} <= texts
    assert {c.tier for c in analysis.comparisons} <= texts
    assert {figures.ratio(c.slowdown) for c in analysis.comparisons} <= texts


def test_samples_wear_tier_colours_and_the_baseline_blue(analysis: Analysis) -> None:
    svg = charts.section_charts(analysis)[2].svg.decode()
    assert f"fill: {charts.BASELINE_COLOUR}" in svg
    assert f"fill: {charts.TIER_COLOURS['severe']}" in svg


def svg_texts(svg: bytes) -> set[str]:
    return {t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")}


def test_chart_text_is_text_in_the_shipped_family_only(analysis: Analysis) -> None:
    for chart in charts.section_charts(analysis) + [charts.overview_chart(analysis)]:
        root = ET.fromstring(chart.svg)
        texts = list(root.iter("{http://www.w3.org/2000/svg}text"))
        assert texts, chart.name
        families = {part.split(":", 1)[1].strip()
                    for t in texts for part in t.get("style", "").split(";")
                    if part.strip().startswith("font-family")}
        assert families == {"'Reportgen Sans'"}, chart.name
        assert b"DejaVu" not in chart.svg and b"sans-serif" not in chart.svg


def test_every_sample_is_drawn_with_the_interval(analysis: Analysis) -> None:
    first = charts.section_charts(analysis)[0]
    metric = analysis.sections[0].metrics[0]
    circles = first.svg.count(b'<use xlink:href="#s1-')  # scatter points reuse one marker
    assert circles >= sum(len(m.metric.samples) for m in metric.measurements)
    assert "95% interval against native" in svg_texts(first.svg)


def test_dollar_signs_stay_text_not_mathtext() -> None:
    r = report()
    envs = tuple(dataclasses.replace(e, metrics={k: dataclasses.replace(m, name="cost in $ and $x$")
                                                 for k, m in e.metrics.items()})
                 for e in r.environments)
    a = analyse(dataclasses.replace(r, environments=envs))
    assert any("cost in $ and $x$" in t for t in svg_texts(charts.overview_chart(a).svg))


def test_untiered_verdicts_are_drawn_as_such(analysis: Analysis) -> None:
    cs = list(analysis.comparisons)
    cs[0] = dataclasses.replace(cs[0], verdict="inconclusive", tier="inconclusive",
                                label="inconclusive")
    cs[1] = dataclasses.replace(cs[1], verdict="not-comparable", tier="not-comparable",
                                label="not comparable", interval=None)
    sections = tuple(dataclasses.replace(s, metrics=tuple(dataclasses.replace(
        m, measurements=tuple(dataclasses.replace(x, comparison=next(
            (c for c in cs if x.comparison and (c.metric_id, c.env) ==
             (x.comparison.metric_id, x.comparison.env)), x.comparison))
            for x in m.measurements)) for m in s.metrics)) for s in analysis.sections)
    changed = dataclasses.replace(analysis, sections=sections)
    chart = charts.overview_chart(changed)
    texts = svg_texts(chart.svg)
    assert {"inconclusive", "not comparable"} <= texts
    assert f"{figures.ratio(cs[0].slowdown)} ?" in texts
    assert "not comparable" in chart.alt
    charts.section_charts(changed)  # draws without a whisker for not-comparable


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
from reportgen.render import charts
from reportgen.render import html as render_html
from reportgen.analyse.analysis import analyse, card
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
