"""SVG charts: one per section, an overview, alt text with numbers, same bytes every build."""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest

from reportgen.analyse.analysis import Analysis, analyse
from reportgen.analyse.compare import Comparison
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
    # The legend names the threshold lines drawn, each tier shown too.
    assert {"moderate from 1.15x", "severe from 10.0x", "1x: no difference"} <= texts
    assert {c.tier for c in analysis.comparisons} <= texts
    assert {figures.ratio(c.slowdown) for c in analysis.comparisons} <= texts
    # Without the 18.8x of write+fsync the scale stops short of 10x: no severe
    # line, and none named.
    milder = dataclasses.replace(analysis, sections=analysis.sections[:2])
    chart = charts.overview_chart(milder)
    texts = svg_texts(chart.svg)
    assert "moderate from 1.15x" in texts
    assert not any(t.startswith("severe") for t in texts)
    assert "severe tier" not in chart.alt and "moderate tier begins (1.15x)" in chart.alt


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
    assert "95% interval of the slowdown" in svg_texts(first.svg)


def test_dollar_signs_stay_text_not_mathtext() -> None:
    r = report()
    envs = tuple(dataclasses.replace(e, metrics={k: dataclasses.replace(m, name="cost in $ and $x$")
                                                 for k, m in e.metrics.items()})
                 for e in r.environments)
    a = analyse(dataclasses.replace(r, environments=envs))
    assert any("cost in $ and $x$" in t for t in svg_texts(charts.overview_chart(a).svg))


def with_comparisons(analysis: Analysis, cs: list[Comparison]) -> Analysis:
    """The analysis with each comparison replaced by the one of ``cs`` for the
    same metric and environment."""
    sections = tuple(dataclasses.replace(s, metrics=tuple(dataclasses.replace(
        m, measurements=tuple(dataclasses.replace(x, comparison=next(
            (c for c in cs if x.comparison and (c.metric_id, c.env) ==
             (x.comparison.metric_id, x.comparison.env)), x.comparison))
            for x in m.measurements)) for m in s.metrics)) for s in analysis.sections)
    return dataclasses.replace(analysis, sections=sections)


def test_untiered_verdicts_are_drawn_as_such(analysis: Analysis) -> None:
    cs = list(analysis.comparisons)
    cs[0] = dataclasses.replace(cs[0], verdict="inconclusive", tier="inconclusive",
                                label="inconclusive")
    cs[1] = dataclasses.replace(cs[1], verdict="not-comparable", tier="not-comparable",
                                label="not comparable", interval=None)
    changed = with_comparisons(analysis, cs)
    apart = f"{charts.metric_names(analysis)[cs[1].metric_id]}, {cs[1].env}"
    chart = charts.overview_chart(changed)
    texts = svg_texts(chart.svg)
    # Set apart, under headings of their own: inconclusive results still on the
    # scale, not comparable ones named only.
    assert {"Inconclusive: the data cannot tell", "inconclusive", "Not comparable",
            apart} <= texts
    assert f"{figures.ratio(cs[0].slowdown)} ?" in texts
    assert f"{apart}: not comparable" in chart.alt
    assert "not comparable" not in texts  # no cross drawn, so none in the legend
    drawn = charts.section_charts(changed)  # without a whisker for not-comparable
    assert "not comparable" in svg_texts(drawn[0].svg)


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


# --- the scale, the size, the legend ---------------------------------------------------


def svg_text_sizes(svg: bytes) -> set[float]:
    sizes = set()
    for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"):
        for part in t.get("style", "").split(";"):
            name, _, value = part.partition(":")
            if name.strip() == "font-size":
                sizes.add(float(value.strip().removesuffix("px")))
    return sizes


def test_text_is_one_size_legible_on_a_phone_and_no_larger_than_the_pdf_body(
        analysis: Analysis) -> None:
    for chart in charts.section_charts(analysis) + [charts.overview_chart(analysis)]:
        root = ET.fromstring(chart.svg)
        assert root.get("width") == f"{charts.WIDTH:g}pt", chart.name
        assert svg_text_sizes(chart.svg) == {charts.FONT}, chart.name
    # Shown in a 291 px box (a 320 px screen less the page's margins): 11 px or
    # more; at its own size in the PDF: the body's 10 pt; on a desktop: 13.3 px.
    assert charts.FONT * 291 / charts.WIDTH >= 11
    assert charts.FONT <= 10


def ids(svg: bytes) -> list[str]:
    return [e.get("id", "") for e in ET.fromstring(svg).iter() if e.get("id")]


def test_plots_and_medians_carry_fixed_ids(analysis: Analysis) -> None:
    first, second, third = charts.section_charts(analysis)
    assert {"s1-plot-syscall.getpid", "s1-median-syscall.getpid-native",
            "s1-median-syscall.getpid-guest", "s1-median-syscall.getpid-jail"} <= set(ids(first.svg))
    assert {"s2-plot-memory.sysbench.write.t1", "s2-plot-memory.sysbench.read.t1"} \
        <= set(ids(second.svg))
    # jail failed write+fsync: a note, no median mark
    assert "s3-median-disk.write_fsync-jail" not in ids(third.svg)
    assert "failed" in svg_texts(third.svg)


def medians_x(svg: bytes, chart: str, metric: str) -> dict[str, float]:
    """x of each environment's median mark, in the SVG's points."""
    found = {}
    for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        prefix = f"{chart}-median-{metric}-"
        if g.get("id", "").startswith(prefix):
            path = next(g.iter("{http://www.w3.org/2000/svg}path"))
            found[g.get("id", "")[len(prefix):]] = float(path.get("d", "").split()[1])
    return found


def plot_box(svg: bytes, chart: str, metric: str) -> tuple[float, float]:
    """Left and right of a plot area, in the SVG's points."""
    for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        if g.get("id") == f"{chart}-plot-{metric}":
            d = next(g.iter("{http://www.w3.org/2000/svg}path")).get("d", "").split()
            xs = [float(v) for v in d[1::3] if v.replace(".", "").isdigit()]
            return min(xs), max(xs)
    raise AssertionError(f"no plot {metric} in {chart}")


def test_a_small_difference_spans_the_plot_and_the_baseline_sits_at_1x(
        analysis: Analysis) -> None:
    """jail's getpid is 0.4% slower than native, guest's 4x: each on its own scale
    of the log slowdown, the medians of a section chart are far apart."""
    first = charts.section_charts(analysis)[0]
    xs = medians_x(first.svg, "s1", "syscall.getpid")
    left, right = plot_box(first.svg, "s1", "syscall.getpid")
    assert set(xs) == {"native", "guest", "jail"}
    assert all(left < x < right for x in xs.values())
    assert xs["native"] < xs["jail"] < xs["guest"]
    assert (xs["guest"] - xs["native"]) / (right - left) > 0.7


def test_an_outlier_sample_does_not_squash_the_scale() -> None:
    near = charts.fit_scale([0.0, 0.02, 0.019, 0.021], [0.0, 0.022, 2.0])
    assert near.fitted[1] - near.fitted[0] == pytest.approx((1 + charts.SAMPLE_ROOM) * 0.021)
    assert near.fitted[0] == 0.0  # the room goes where the samples are
    assert charts.fit_scale([0.0, 0.0]).fitted[1] - charts.fit_scale([0.0]).fitted[0] \
        == pytest.approx(charts.MIN_SPAN)


def test_a_sample_beyond_the_scale_is_drawn_at_its_edge_and_named() -> None:
    r = report()
    # fifteen samples, one of them 27 times the others: the interval of the
    # median stays near 182 ns, the outlier far beyond it
    outlier = dataclasses.replace(r.environments[1].metrics["syscall.getpid"],
                                  samples=(*[180.0 + k % 4 for k in range(14)], 5000.0),
                                  rounds=tuple(1 + k // 3 for k in range(15)))
    guest = dataclasses.replace(r.environments[1], metrics={
        **r.environments[1].metrics, "syscall.getpid": outlier})
    a = analyse(dataclasses.replace(r, environments=(r.environments[0], guest)))
    first = charts.section_charts(a)[0]
    assert "sample beyond the scale" in svg_texts(first.svg)
    assert "sample beyond the scale" not in svg_texts(charts.section_charts(analyse(r))[0].svg)


@pytest.mark.parametrize("span", [(0.0, 0.004), (-0.02, 0.03), (0.0, 0.6), (-0.5, 0.4),
                                  (0.0, 1.82), (-1.2, 2.5), (0.0, 4.0)])
@pytest.mark.parametrize("width", [120.0, 190.0, 230.0])
def test_tick_labels_never_touch_and_stay_on_the_chart(span: tuple[float, float],
                                                       width: float) -> None:
    scale = charts.fit_scale(list(span))
    placed = charts.ticks(scale, width, 9.0, 11.0)
    assert len(placed) >= 2 or width < 150
    edges = [(scale.x(v, width) - charts.text_width(label) / 2,
              scale.x(v, width) + charts.text_width(label) / 2) for v, label in placed]
    assert all(a[1] + charts.TICK_GAP <= b[0] + 1e-6 for a, b in itertools.pairwise(edges))
    assert all(-9.0 <= lo and hi <= width + 11.0 for lo, hi in edges)
    assert all(scale.low <= v <= scale.high for v, _ in placed)


def test_overview_sorts_by_slowdown_and_sets_the_untiered_apart() -> None:
    a = analyse(report(("native", "guest", "jail")))
    cs = list(a.comparisons)
    cs[2] = dataclasses.replace(cs[2], verdict="inconclusive", tier="inconclusive")
    changed = with_comparisons(a, cs)
    plan = charts._overview(changed)
    slowdowns = [c.slowdown for _, c in plan.shown]
    assert slowdowns == sorted(slowdowns, reverse=True) and len(slowdowns) >= 4
    assert [c for _, c in plan.inconclusive] == [cs[2]]
    texts = [t.text for t in ET.fromstring(charts.overview_chart(changed).svg).iter(
        "{http://www.w3.org/2000/svg}text")]
    shown = [figures.ratio(c.slowdown) for _, c in plan.shown]
    assert [t for t in texts if t in shown] == shown  # the rows' figures, top to bottom
    assert texts.index("Inconclusive: the data cannot tell") > texts.index(shown[-1])


def test_a_metric_the_baseline_failed_is_written_out_not_drawn() -> None:
    r = report(("native", "guest"))
    failed = dataclasses.replace(r.environments[0].metrics["syscall.getpid"], samples=(),
                                 status="failed")
    native = dataclasses.replace(r.environments[0], metrics={
        **r.environments[0].metrics, "syscall.getpid": failed})
    a = analyse(dataclasses.replace(r, environments=(native, r.environments[1])))
    first = charts.section_charts(a)[0]
    assert {"failed", "no baseline to compare with"} <= svg_texts(first.svg)
    assert not any(i.startswith("s1-plot-") for i in ids(first.svg))


def test_alike_metrics_share_one_scale_unlike_ones_keep_their_own() -> None:
    alike = [charts.fit_scale([0.0, v]) for v in (0.2, 0.29, 0.23, 0.39)]  # 1.58x to 2.45x
    shared = charts.shared_scale(alike)
    assert shared is not None and shared.fitted == (0.0, 0.39)
    unlike = [charts.fit_scale([0.0, 0.03]), charts.fit_scale([0.0, 1.8])]  # 1.07x, 63x
    assert charts.shared_scale(unlike) is None
    assert charts.shared_scale([alike[0]]) is None
    assert charts.shared_scale([alike[0], None]) is None


def test_a_shared_scale_shows_its_ticks_once() -> None:
    a = analyse(report())  # sysbench write and read: -36% and -48%, alike
    second = charts.section_charts(a)[1]
    texts = [t.text for t in ET.fromstring(second.svg).iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count("1x") == 1
    assert {"s2-plot-memory.sysbench.write.t1", "s2-plot-memory.sysbench.read.t1"} \
        <= set(ids(second.svg))
