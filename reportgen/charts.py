"""Charts as SVG bytes: one per numbered section and an overview of slowdowns.

Built with matplotlib's object API (``Figure`` + the Agg-free SVG writer), never
pyplot, so no global figure state leaks between builds.  Every style setting is
applied inside an ``rc_context`` that starts from matplotlib's shipped defaults,
which keeps a user's matplotlibrc out of the picture.  A fixed ``svg.hashsalt``
and ``Date: None`` make the bytes the same on every build.

Every chart carries alt text that states its numbers; the page also shows the
same numbers in a table, so nothing is only in a picture.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reportgen import figures
from reportgen.analysis import Analysis, Measurement, MetricView, SectionView
from reportgen.compare import Comparison
from reportgen.model import Thresholds

if TYPE_CHECKING:  # matplotlib takes over a second to import: only when drawing
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# One colour per tier, shared with templates/style.css (a test checks they agree).
TIER_COLOURS = {
    "negligible": "#2f7a4d",
    "moderate": "#a35f00",
    "severe": "#b3261e",
    "inconclusive": "#5b4f8f",  # untiered verdicts: never the colour of "fine"
    "not-comparable": "#59606b",
}
BASELINE_COLOUR = "#7b8494"
INK = "#1f2328"
MUTED = "#59606b"
GRID = "#d8dce2"

WIDTH_IN = 6.4
_STYLE: dict[Any, Any] = {  # keys checked by matplotlib at run time
    "svg.hashsalt": "reportgen",
    "svg.fonttype": "path",  # glyphs as paths: the chart looks the same in every viewer
    "font.family": "DejaVu Sans",  # shipped with matplotlib, so present on every machine
    "font.size": 9.0,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.titlelocation": "left",
    "xtick.color": MUTED,
    "ytick.color": INK,
    "text.color": INK,
    "text.parse_math": False,  # names and units are the author's text: `$x^2$` is not maths
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
    """Slowdown of every compared metric, log scale, coloured by tier, a line at 1x."""
    comparisons = _tiered(analysis)
    labels = _overview_labels(analysis)
    report = analysis.report
    alt = _overview_alt(analysis)
    svg = _render(lambda fig: _draw_overview(fig, comparisons, labels, report.baseline,
                                             report.thresholds),
                  height=max(1.6, 0.9 + 0.32 * len(comparisons)), title=alt)
    return Chart("overview.svg", alt, svg)


def refs(analysis: Analysis) -> list[ChartRef]:
    """Every chart's name and alt text, as the drawing functions give them,
    without drawing (for charts carried over from the previous build)."""
    return [ChartRef(f"{s.anchor}.svg", _section_alt(s)) for s in analysis.sections] + \
        [ChartRef("overview.svg", _overview_alt(analysis))]


def _overview_labels(analysis: Analysis) -> list[str]:
    names = metric_names(analysis)
    several = len(analysis.report.others) > 1
    return [_row_label(names[c.metric_id], c.env, several) for c in _tiered(analysis)]


def _tiered(analysis: Analysis) -> list[Comparison]:
    """The comparisons that have a slowdown to draw (not those outside the tiers)."""
    return [c for c in analysis.comparisons if c.tier in TIER_COLOURS]


def _overview_alt(analysis: Analysis) -> str:
    report = analysis.report
    described = "; ".join(f"{label}: {figures.ratio(c.slowdown)} ({c.tier})"
                          for label, c in zip(_overview_labels(analysis), _tiered(analysis)))
    bounds = " and ".join(f"{tier} from {figures.ratio(b)}"
                          for tier, b in _tier_bounds(report.thresholds))
    return (f"Bar chart of the slowdown against {report.baseline} per metric, on a log scale "
            f"with a line at 1x (no difference) and dotted lines where the tiers begin "
            f"({bounds}). {described or 'No comparisons.'}")


def metric_names(analysis: Analysis) -> dict[str, str]:
    """Metric id to display name, for every metric shown in a section."""
    return {m.id: m.name for s in analysis.sections for m in s.metrics}


def bar_colour(measurement: Measurement, baseline: str) -> str:
    """The baseline is neutral grey; every other environment wears its tier colour."""
    if measurement.env == baseline or measurement.comparison is None:
        return BASELINE_COLOUR
    return TIER_COLOURS.get(measurement.comparison.tier, MUTED)


# --- section charts ---------------------------------------------------------------------


def _section_chart(section: SectionView, baseline: str) -> Chart:
    rows = sum(len(m.measurements) for m in section.metrics)
    height = 0.3 * rows + 0.65 * len(section.metrics) + 0.15
    alt = _section_alt(section)
    svg = _render(lambda fig: _draw_section(fig, section, baseline), height=height, title=alt)
    return Chart(f"{section.anchor}.svg", alt, svg)


def _section_alt(section: SectionView) -> str:
    parts = []
    for metric in section.metrics:
        values = ", ".join(f"{m.env} {_value_text(m)}" for m in metric.measurements)
        parts.append(f"{metric.name} ({metric.better} is better): {values}")
    return f"Bar chart of the medians in section {section.number}, {section.title}. " + \
        "; ".join(parts) + "."


def _draw_section(fig: Figure, section: SectionView, baseline: str) -> None:
    # One panel per metric, since metrics in one section may differ in unit; when
    # they share one, the panels share a scale so their bars compare at a glance.
    shared = len({m.unit for m in section.metrics}) == 1
    ratios = [len(m.measurements) + 1 for m in section.metrics]
    axes = fig.subplots(nrows=len(section.metrics), ncols=1, squeeze=False, sharex=shared,
                        gridspec_kw={"height_ratios": ratios})
    tops = [_top(m) for m in section.metrics]
    for ax, metric, top in zip(axes[:, 0], section.metrics, tops):
        _draw_metric(ax, metric, baseline, max(tops) if shared else top)


def _top(metric: MetricView) -> float:
    return max((m.median or 0.0 for m in metric.measurements), default=0.0) or 1.0


def _draw_metric(ax: Axes, metric: MetricView, baseline: str, top: float) -> None:
    from matplotlib.ticker import FuncFormatter

    rows = metric.measurements
    ys = list(range(len(rows)))
    values = [m.median or 0.0 for m in rows]
    ax.barh(ys, values, height=0.6, color=[bar_colour(m, baseline) for m in rows])
    for y, m in zip(ys, rows):
        ax.text((m.median or 0.0) + top * 0.015, y, _value_text(m),
                va="center", ha="left", color=INK if m.median else MUTED)
    ax.set_xlim(0, top * 1.45)  # room for the value labels right of the bars
    ax.set_yticks(ys, [m.env for m in rows])
    ax.invert_yaxis()
    ax.set_title(f"{metric.name} ({metric.unit}, {metric.better} is better)")
    _tidy(ax)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: figures.number(v)))


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


def _draw_overview(fig: Figure, comparisons: Sequence[Comparison], labels: Sequence[str],
                   baseline: str, thresholds: Thresholds) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax = fig.subplots()
    ys = list(range(len(comparisons)))
    slowdowns = [c.slowdown for c in comparisons]
    # Bars grow from 1x, rightwards when worse and leftwards when better.
    ax.barh(ys, [s - 1 for s in slowdowns], left=1, height=0.6,
            color=[TIER_COLOURS[c.tier] for c in comparisons])
    ax.set_xscale("log")
    low, high = min(slowdowns + [1.0]) / 1.4, max(slowdowns + [1.0]) * 2.6
    ax.set_xlim(low, high)
    ax.axvline(1, color=INK, linewidth=1)
    for tier, bound in _tier_bounds(thresholds):  # where moderate and severe begin
        ax.axvline(bound, color=TIER_COLOURS[tier], linewidth=0.8, linestyle=(0, (2, 2)))
    for y, c in zip(ys, comparisons):  # right of the bar or the 1x line, clear of the names
        ax.text(max(c.slowdown, 1.0) * 1.06, y, figures.ratio(c.slowdown), va="center")
    ax.set_yticks(ys, list(labels))
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(FixedLocator(list(_log_ticks(low, high))))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: figures.ratio(v)))
    ax.set_xlabel(f"slowdown against {baseline} (log scale; 1x = no difference)")
    _tidy(ax)


def _tier_bounds(thresholds: Thresholds) -> tuple[tuple[str, float], ...]:
    return ("moderate", thresholds.moderate), ("severe", thresholds.severe)


def _log_ticks(low: float, high: float) -> Iterator[float]:
    """1, 2, 5 per decade when the range is short, decades only when it is long."""
    steps = (1.0, 2.0, 5.0) if high / low < 200 else (1.0,)
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for step in steps:
            tick = step * 10.0 ** exponent
            if low <= tick <= high:
                yield tick


# --- shared -----------------------------------------------------------------------------


def _tidy(ax: Axes) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # matplotlib's shipped defaults, not the user's matplotlibrc
        matplotlib.rcParams.update(_STYLE)
        yield


def _render(draw: Callable[[Figure], None], *, height: float, title: str) -> bytes:
    from matplotlib.figure import Figure

    with _style():
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        draw(fig)
        out = io.BytesIO()
        # No date and no matplotlib version: the bytes depend on the data alone.
        fig.savefig(out, format="svg",
                    metadata={"Date": None, "Creator": "reportgen", "Title": title})
    return out.getvalue()
