"""Charts as SVG bytes: one per numbered section and an overview of slowdowns.

Built with matplotlib's object API (``Figure`` + the SVG writer), never pyplot,
so no global figure state leaks between builds.  Every style setting is applied
inside an ``rc_context`` that starts from matplotlib's shipped defaults, which
keeps a user's matplotlibrc out of the picture.  A per-chart ``svg.hashsalt``
and ``Date: None`` make the bytes the same on every build.

Chart text stays text (``svg.fonttype: none``) in one family, ``Reportgen
Sans``: matplotlib measures it with the font file shipped in templates/fonts,
and the page and the PDF declare the same family with ``@font-face`` on the
same file, so the lettering is the same everywhere and never the machine's.
Mathtext is off: a ``$`` in a metric name is a dollar sign.

Every chart carries alt text that states its numbers; the page also shows the
same numbers in a table, so nothing is only in a picture.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from reportgen.analyse.analysis import Analysis, Measurement, MetricView, SectionView
from reportgen.analyse.compare import Comparison
from reportgen.core import figures, resources
from reportgen.core.model import Thresholds

if TYPE_CHECKING:  # matplotlib takes over a second to import: only when drawing
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The Okabe-Ito palette (distinct under the common colour-vision deficiencies),
# one colour per tier; templates/style.css uses the same (a test checks).  The
# marker shape repeats the tier, so colour is never the only cue.
TIER_COLOURS = {
    "negligible": "#009e73",  # bluish green
    "moderate": "#e69f00",  # orange
    "severe": "#d55e00",  # vermillion
    "inconclusive": "#8c8c8c",
    "not-comparable": "#8c8c8c",
}
TIER_MARKERS = {
    "negligible": "o",
    "moderate": "s",
    "severe": "^",
    "inconclusive": "D",  # drawn hollow: the data cannot tell
    "not-comparable": "x",
}
BASELINE_COLOUR = "#0072b2"  # Okabe-Ito blue
INK = "#1f2328"
MUTED = "#59606b"
GRID = "#d8dce2"

FONT_FAMILY = "Reportgen Sans"
WIDTH_IN = 6.4
LABEL_WIDTH = 30  # characters per line of a row name before it wraps
_STYLE: dict[Any, Any] = {  # keys checked by matplotlib at run time
    "svg.fonttype": "none",  # text stays text: selectable, searchable, quick to draw
    "text.parse_math": False,  # a "$" in a name is a dollar sign, never mathtext
    "font.family": [FONT_FAMILY],
    "font.size": 9.0,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.titlelocation": "left",
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "text.color": INK,
}


@dataclass(frozen=True)
class ChartRef:
    """A chart as a page refers to it."""

    name: str  # file name under output/<slug>/charts/, e.g. "s1.svg", "overview.svg"
    alt: str  # what the chart shows, with its numbers


@dataclass(frozen=True)
class Chart(ChartRef):
    svg: bytes


def section_charts(analysis: Analysis) -> list[Chart]:
    """One chart per section, in section order, named after the section's anchor."""
    baseline = analysis.report.baseline
    return [_section_chart(section, baseline) for section in analysis.sections]


def overview_chart(analysis: Analysis) -> Chart:
    """Slowdown of every compared metric with its interval, log scale, tier by
    colour and marker, the tier thresholds named in the legend."""
    comparisons = analysis.comparisons
    labels = _overview_labels(analysis)
    report = analysis.report
    alt = _overview_alt(analysis)
    lines = sum(len(label.splitlines()) for label in labels)
    svg = _render(lambda fig: _draw_overview(fig, comparisons, labels, report.baseline,
                                             report.thresholds),
                  height=max(2.0, 1.35 + 0.18 * lines + 0.12 * len(comparisons)),
                  title=alt, name="overview")
    return Chart("overview.svg", alt, svg)


def refs(analysis: Analysis) -> list[ChartRef]:
    """Every chart's name and alt text, as the drawing functions give them,
    without drawing (for charts carried over from the previous build)."""
    return [ChartRef(f"{s.anchor}.svg", _section_alt(s)) for s in analysis.sections] + \
        [ChartRef("overview.svg", _overview_alt(analysis))]


def _overview_labels(analysis: Analysis) -> list[str]:
    names = metric_names(analysis)
    several = len(analysis.report.others) > 1
    return [_wrap(_row_label(names[c.metric_id], c.env, several))
            for c in analysis.comparisons]


def _overview_alt(analysis: Analysis) -> str:
    report = analysis.report
    described = "; ".join(
        f"{' '.join(label.split())}: {_result_text(c)}"
        for label, c in zip(_overview_labels(analysis), analysis.comparisons))
    bounds = " and ".join(f"{tier} from {figures.ratio(b)}"
                          for tier, b in _tier_bounds(report.thresholds))
    return (f"Chart of the slowdown against {report.baseline} per metric with its 95% "
            f"interval, on a log scale with a line at 1x (no difference) and dashed lines "
            f"where the tiers begin ({bounds}). {described or 'No comparisons.'}")


def _result_text(c: Comparison) -> str:
    if c.verdict == "not-comparable":
        return "not comparable"
    text = f"{figures.ratio(c.slowdown)} ({c.tier})"
    return f"{text}, interval {figures.interval(c.interval)}" if c.interval else text


def metric_names(analysis: Analysis) -> dict[str, str]:
    """Metric id to display name, for every metric shown in a section."""
    return {m.id: m.name for s in analysis.sections for m in s.metrics}


def colour(measurement: Measurement, baseline: str) -> str:
    """The baseline wears blue; every other environment its tier's colour."""
    if measurement.env == baseline or measurement.comparison is None:
        return BASELINE_COLOUR
    return TIER_COLOURS.get(measurement.comparison.tier, MUTED)


# --- section charts ---------------------------------------------------------------------


def _section_chart(section: SectionView, baseline: str) -> Chart:
    rows = sum(len(m.measurements) for m in section.metrics)
    panels = len(_unit_groups(section.metrics))
    height = 0.3 * rows + 0.16 * len(section.metrics) + 0.7 * panels + 0.3
    alt = _section_alt(section)
    svg = _render(lambda fig: _draw_section(fig, section, baseline), height=height, title=alt,
                  name=section.anchor)
    return Chart(f"{section.anchor}.svg", alt, svg)


def _section_alt(section: SectionView) -> str:
    parts = []
    for metric in section.metrics:
        values = ", ".join(f"{m.env} {_value_text(m)}" for m in metric.measurements)
        parts.append(f"{metric.name} ({metric.better} is better): {values}")
    return (f"Chart of every sample, the median and the 95% interval per environment in "
            f"section {section.number}, {section.title}. Medians: " + "; ".join(parts) + ".")


def _unit_groups(metrics: Sequence[MetricView]) -> list[list[MetricView]]:
    """Metrics sharing a unit share one scale; each unit gets a panel of its own."""
    groups: dict[str, list[MetricView]] = {}
    for metric in metrics:
        groups.setdefault(metric.unit, []).append(metric)
    return list(groups.values())


def _draw_section(fig: Figure, section: SectionView, baseline: str) -> None:
    groups = _unit_groups(section.metrics)
    ratios = [sum(len(m.measurements) + 0.6 for m in g) for g in groups]
    axes = fig.subplots(nrows=len(groups), ncols=1, squeeze=False,
                        gridspec_kw={"height_ratios": ratios})
    for ax, group in zip(axes[:, 0], groups):
        _draw_group(ax, group, baseline, title=len(section.metrics) > 1)
    _section_legend(fig, section, baseline)


def _draw_group(ax: Axes, metrics: Sequence[MetricView], baseline: str, *, title: bool) -> None:
    """One row per environment, metrics stacked in groups: each round's samples on a
    line of their own, the median as a bar mark, the interval as a whisker."""
    from matplotlib.ticker import FuncFormatter

    y, ticks, names, top = 0.0, [], [], 0.0
    for metric in metrics:
        if title:
            ax.text(0, y - 0.55, f"{metric.name} ({metric.better} is better)", fontweight="bold",
                    transform=ax.get_yaxis_transform(), va="center", ha="left")
        for m in metric.measurements:
            top = max(top, _draw_row(ax, y, m, baseline))
            ticks.append(y)
            names.append(m.env)
            y += 1
        y += 0.6
    ax.set_yticks(ticks, names)
    ax.set_ylim(y - 0.6 - 0.5, -1.0 if title else -0.5)
    ax.set_xlim(0, (top or 1.0) * 1.08)
    unit = figures.unit(metrics[0].unit)
    if title:
        ax.set_xlabel(unit)
    else:
        ax.set_title(f"{metrics[0].name} ({unit}, {metrics[0].better} is better)")
    _tidy(ax)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: figures.tick(v)))


def _draw_row(ax: Axes, y: float, m: Measurement, baseline: str) -> float:
    """Draw one environment's row; returns the largest value drawn."""
    metric = m.metric
    if m.median is None:
        ax.text(0, y, f" {metric.status}", va="center", color=MUTED, style="italic")
        return 0.0
    shade = colour(m, baseline)
    rounds = metric.round_numbers
    order = sorted(set(rounds))
    spread = 0.5 / max(len(order), 1)
    offsets = {r: (i - (len(order) - 1) / 2) * spread for i, r in enumerate(order)}
    ax.scatter(metric.samples, [y + offsets[r] for r in rounds], s=14, color=shade,
               alpha=0.6, linewidths=0, zorder=2)
    largest = max(metric.samples)
    bounds = _value_interval(m)
    if bounds is not None:
        ax.errorbar([m.median], [y], xerr=[[m.median - bounds[0]], [bounds[1] - m.median]],
                    fmt="none", ecolor=INK, elinewidth=1.0, capsize=3, zorder=3)
        largest = max(largest, bounds[1])
    ax.plot([m.median, m.median], [y - 0.34, y + 0.34], color=shade, linewidth=2.5, zorder=4)
    return largest


def _value_interval(m: Measurement) -> tuple[float, float] | None:
    """The slowdown interval in the metric's own unit, around the environment's median:
    where its median could lie, given the baseline's."""
    c = m.comparison
    if c is None or c.interval is None or c.verdict == "not-comparable":
        return None
    low, high = c.interval
    if c.better == "lower":
        return c.base_median * low, c.base_median * high
    return c.base_median / high, c.base_median / low


def _section_legend(fig: Figure, section: SectionView, baseline: str) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=MUTED, marker="o", linestyle="none", markersize=3, alpha=0.6,
               label="sample (one line per round)"),
        Line2D([], [], color=INK, marker="|", linestyle="none", markersize=9,
               markeredgewidth=2, label="median"),
    ]
    if any(_value_interval(m) for metric in section.metrics for m in metric.measurements):
        handles.append(Line2D([], [], color=INK, marker="|", linestyle="-", markersize=5,
                              linewidth=1, label=f"95% interval against {baseline}"))
    fig.legend(handles=handles, loc="outside lower left", ncols=len(handles))


def _value_text(m: Measurement) -> str:
    """The median in the measurement's own unit (the baseline's, unless the
    units could not be converted)."""
    if m.median is None:
        return m.metric.status
    text = figures.quantity(m.median, m.metric.unit)
    return f"{text} ({m.comparison.label})" if m.comparison else text


# --- overview ---------------------------------------------------------------------------


def _row_label(name: str, env: str, several: bool) -> str:
    return f"{name}, {env}" if several else name


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, LABEL_WIDTH, break_on_hyphens=False)) or text


def _draw_overview(fig: Figure, comparisons: Sequence[Comparison], labels: Sequence[str],
                   baseline: str, thresholds: Thresholds) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax = fig.subplots()
    ys = list(range(len(comparisons)))
    shown = [c for c in comparisons if c.verdict != "not-comparable"]
    values = [1.0] + [c.slowdown for c in shown] + [b for c in shown if c.interval
                                                    for b in c.interval]
    low, high = min(values) / 1.15, max(values) * 1.15
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.axvline(1, color=INK, linewidth=1, zorder=1)
    styles = {"moderate": (0, (4, 2)), "severe": (0, (1, 1.5))}
    lines = [Line2D([], [], color=INK, linewidth=1, label="1x: no difference")]
    for tier, bound in _tier_bounds(thresholds):  # where moderate and severe begin
        if low < bound < high:
            ax.axvline(bound, color=TIER_COLOURS[tier], linewidth=1, linestyle=styles[tier],
                       zorder=1)
        lines.append(Line2D([], [], color=TIER_COLOURS[tier], linewidth=1,
                            linestyle=styles[tier], label=f"{tier} from {figures.ratio(bound)}"))
    for y, c in zip(ys, comparisons):
        _draw_comparison(ax, y, c)
    ax.set_yticks(ys, list(labels))
    ax.set_ylim(max(len(comparisons), 1) - 0.5, -0.5)
    ax.xaxis.set_major_locator(FixedLocator(list(_log_ticks(low, high))))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{figures.tick(v)}x"))
    ax.set_xlabel(f"slowdown against {baseline}, log scale (right of 1x: slower)")
    _tidy(ax)
    tiers = dict.fromkeys(c.tier for c in comparisons)
    markers = [Line2D([], [], linestyle="none", marker=TIER_MARKERS[t],
                      markerfacecolor="none" if t == "inconclusive" else TIER_COLOURS[t],
                      color=TIER_COLOURS[t], label=t.replace("-", " ")) for t in tiers]
    fig.legend(handles=markers + lines, loc="outside lower left", ncols=3)


def _draw_comparison(ax: Axes, y: int, c: Comparison) -> None:
    """A marker at the slowdown (shape and colour: the tier), the interval as a whisker,
    the figure written at the right edge, clear of the lines."""
    shade = TIER_COLOURS[c.tier]
    right = ax.get_yaxis_transform()  # x in axes fractions, y in data
    if c.verdict == "not-comparable":
        ax.plot([1], [y], marker=TIER_MARKERS[c.tier], color=shade, linestyle="none")
        ax.text(1.01, y, "not comparable", transform=right, va="center", color=MUTED)
        return
    if c.interval is not None:
        ax.plot(list(c.interval), [y, y], color=shade, linewidth=1.6, zorder=2,
                solid_capstyle="butt")
    hollow = c.verdict == "inconclusive"
    ax.plot([c.slowdown], [y], marker=TIER_MARKERS[c.tier], markersize=6.5, color=shade,
            markerfacecolor="white" if hollow else shade, markeredgewidth=1.3,
            linestyle="none", zorder=3)
    text = figures.ratio(c.slowdown) + (" ?" if hollow else "")
    ax.text(1.01, y, text, transform=right, va="center", ha="left")


def _tier_bounds(thresholds: Thresholds) -> tuple[tuple[str, float], ...]:
    return ("moderate", thresholds.moderate), ("severe", thresholds.severe)


TICK_STEPS = (
    (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0),
    (1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 2.0, 5.0),
    (1.0,),
)


def _log_ticks(low: float, high: float) -> Iterator[float]:
    """The densest of 1-2-5-like series that puts at most seven ticks on the axis
    (so a narrow A/A range still gets several)."""
    candidates: list[float] = []
    for steps in TICK_STEPS:
        candidates = [step * 10.0 ** e
                      for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
                      for step in steps if low <= step * 10.0 ** e <= high]
        if len(candidates) <= 7:
            break
    yield from candidates


# --- shared -----------------------------------------------------------------------------


def _tidy(ax: Axes) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


@cache
def _register_fonts() -> None:
    """Make the shipped fonts known to matplotlib under the family name the page
    and the PDF give them (the files call themselves "DejaVu Sans")."""
    from matplotlib import font_manager, ft2font

    for name in resources.CHART_FONTS:
        path = resources.TEMPLATES / "fonts" / name
        entry = font_manager.ttfFontProperty(ft2font.FT2Font(str(path)))
        font_manager.fontManager.ttflist.append(dataclasses.replace(entry, name=FONT_FAMILY))


def warm_up() -> None:
    """What the first chart of a process would load: matplotlib's SVG backend and
    the shipped fonts (for workers kept between builds)."""
    from matplotlib.backends import backend_svg  # noqa: F401

    _register_fonts()


@contextmanager
def _style(name: str) -> Iterator[None]:
    import matplotlib

    _register_fonts()
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # matplotlib's shipped defaults, not the user's matplotlibrc
        matplotlib.rcParams.update(_STYLE)
        matplotlib.rcParams["svg.hashsalt"] = f"reportgen-{name}"
        yield


_ID = re.compile(rb'(id="|href="#|url\(#)')


def _render(draw: Callable[[Figure], None], *, height: float, title: str, name: str) -> bytes:
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with _style(name):
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        draw(fig)
        out = io.BytesIO()
        # print_svg, not savefig: savefig lays a constrained figure out and draws
        # it once more before printing; print_svg lays out and draws once, and
        # the bytes come out the same.  No date and no matplotlib version: the
        # bytes depend on the data alone.
        FigureCanvasSVG(fig).print_svg(  # type: ignore[no-untyped-call]
            out, metadata={"Date": None, "Creator": "reportgen", "Title": title})
    # Ids carry the chart's name, so several charts can sit inline in one page.
    return _ID.sub(lambda m: m.group(1) + name.encode() + b"-", out.getvalue())


def inline(chart: Chart) -> str:
    """The chart as an ``<svg>`` element for the page: no XML prolog, an image role
    and the alt text as its accessible name (markup-safe: alt is escaped)."""
    from markupsafe import escape

    text = _PAGE_STYLE.sub("", chart.svg.decode())  # style.css has it, for the page's SVGs
    start = text.index("<svg")
    head_end = text.index(">", start)
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[start:head_end])
    return (f'{head} role="img" aria-label="{escape(chart.alt)}" focusable="false"'
            f'{text[head_end:]}')


# matplotlib's one style rule; inline, its "*" selector would reach the whole page.
_PAGE_STYLE = re.compile(r'\s*<defs>\s*<style type="text/css">[^<]*</style>\s*</defs>')
