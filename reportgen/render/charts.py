"""Charts as SVG bytes: one per numbered section and an overview of slowdowns.

Every chart is drawn on the slowdown scale: how many times worse than the
baseline's median (value / baseline for lower-is-better metrics, baseline /
value for higher-is-better ones), on a log axis where the baseline's median
is 1x and right of it is slower.  A section chart has one panel per metric,
each with a scale fitted to that metric's medians and intervals, so that a
difference of a few percent is as visible as one of 60x; samples far beyond
them are drawn at the edge as arrowheads instead of squashing the rest.
Metrics whose scales are alike share one, with one row of ticks.

Charts are drawn for a phone first: ``WIDTH`` points wide with all text in one
size, ``FONT``, so that shown 288 CSS px wide (a 320 px screen less the page's
margins) the text is still 11 px, and shown at its own size on a desktop or
in the PDF it is no larger than the body text.  The layout is computed here in
points (text measured with the shipped font) rather than by matplotlib's
constrained layout, which drew every chart twice.

Built with matplotlib's object API (``Figure`` + the SVG writer), never pyplot,
so no global figure state leaks between builds.  Every style setting is applied
inside an ``rc_context`` that starts from matplotlib's shipped defaults, which
keeps a user's matplotlibrc out of the picture.  A per-chart ``svg.hashsalt``
and ``Date: None`` make the bytes the same on every build, and the marks a
test looks for carry fixed ids (``gid``): ``plot-<metric>`` on a panel's plot
area, ``median-<metric>-<env>`` on a median's mark.

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
import itertools
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
# Sizes in points (1/72 in; the SVG's user unit).  FONT / WIDTH * 291 px (the
# chart's box on a 320 px screen) is 11.5 px; at its own size (336 CSS px) the
# text is 13.3 px, under the page's 17 px body text, and 10 pt in the PDF.
WIDTH = 252.0
FONT = 10.0
LINE = 12.5  # one line of text
BASELINE = 9.0  # from the top of a line to the baseline of its text
MARGIN = 3.0  # around the chart
ROW = 16.0  # one environment's row in a section chart
PANEL_GAP = 12.0  # between two metrics' panels
TICKS = 18.0  # the tick labels under a plot
RIGHT = 14.0  # room right of a plot for half its last tick label
ENV_WIDTH = 12  # characters of an environment's name per line
SAMPLE_ROOM = 2.0  # samples may widen an axis by this many times its medians' span
MIN_SPAN = math.log10(1.04)  # the narrowest axis: 4%
PAD = 0.06  # of an axis's span, beyond its outermost mark on each side
SHARE = 0.5  # a section's metrics share a scale when each fills this much of it

_STYLE: dict[Any, Any] = {  # keys checked by matplotlib at run time
    "svg.fonttype": "none",  # text stays text: selectable, searchable, quick to draw
    "text.parse_math": False,  # a "$" in a name is a dollar sign, never mathtext
    "font.family": [FONT_FAMILY],
    "font.size": FONT,
    "axes.edgecolor": GRID,
    "xtick.color": MUTED,
    "xtick.labelcolor": MUTED,
    "xtick.major.size": 3.0,
    "xtick.major.pad": 2.5,
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
    """Slowdown of every compared metric with its interval, largest first, on a
    log scale; inconclusive results below them, not comparable ones named."""
    alt = _overview_alt(analysis)
    svg = _render(lambda sheet: _draw_overview(sheet, analysis), title=alt,
                  name="overview")
    return Chart("overview.svg", alt, svg)


def refs(analysis: Analysis) -> list[ChartRef]:
    """Every chart's name and alt text, as the drawing functions give them,
    without drawing (for charts carried over from the previous build)."""
    return [ChartRef(f"{s.anchor}.svg", _section_alt(s, analysis.report.baseline))
            for s in analysis.sections] + [ChartRef("overview.svg", _overview_alt(analysis))]


def metric_names(analysis: Analysis) -> dict[str, str]:
    """Metric id to display name, for every metric shown in a section."""
    return {m.id: m.name for s in analysis.sections for m in s.metrics}


def colour(measurement: Measurement, baseline: str) -> str:
    """The baseline wears blue; every other environment its tier's colour."""
    if measurement.env == baseline or measurement.comparison is None:
        return BASELINE_COLOUR
    return TIER_COLOURS.get(measurement.comparison.tier, MUTED)


# --- scales -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """A log axis of the slowdown: its limits as log10 values, its ticks."""

    low: float
    high: float
    fitted: tuple[float, float]  # the marks' own range, inside the padding

    def x(self, value: float, width: float) -> float:
        """Where log10 ``value`` lies on a plot ``width`` wide."""
        return (value - self.low) / (self.high - self.low) * width


def fit_scale(marks: Sequence[float], samples: Sequence[float] = ()) -> Scale:
    """The axis for ``marks`` (log10 slowdowns that must all show: 1x, medians,
    interval bounds), widened for ``samples`` by at most SAMPLE_ROOM times the
    marks' span; a sample beyond that is drawn at the edge."""
    low, high = min(marks), max(marks)
    if high - low < MIN_SPAN:
        middle = (low + high) / 2
        low, high = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
    room = SAMPLE_ROOM * (high - low)
    below = max(0.0, low - min(samples, default=low))
    above = max(0.0, max(samples, default=high) - high)
    if below + above > room:
        below, above = ((below, room - below) if below < room / 2 else
                        (room - above, above) if above < room / 2 else (room / 2, room / 2))
    low, high = low - below, high + above
    pad = PAD * (high - low)
    return Scale(low - pad, high + pad, (low, high))


# Tick series on a log axis, densest first (each repeats every power of ten).
TICK_STEPS = (
    (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0),
    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0),
    (1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
    (1.0, 2.0, 3.0, 5.0),
    (1.0, 2.0, 4.0),
    (1.0, 2.0, 5.0),
    (1.0, 3.0),
    (1.0,),
)
LINEAR_STEPS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)  # for an axis of less than 3x
TICK_GAP = 6.0  # points between two tick labels
TICK_REACH = 0.25  # at most this much of an axis left without a tick at either end


def ticks(scale: Scale, width: float, left: float, right: float) -> list[tuple[float, str]]:
    """(log10 value, label) of the densest nice series whose labels fit a plot
    ``width`` wide without touching, with ``left`` and ``right`` points of room
    beyond its ends (a label that would stick out is left off), and that
    reaches near both ends of the axis (TICK_REACH); failing that the densest
    that fits, with two ticks if any gives two."""
    low, high = 10 ** scale.low, 10 ** scale.high
    series: list[list[float]] = []
    if high / low < 3:
        for step in LINEAR_STEPS:
            first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
            if 2 <= last - first + 1 <= 12:
                series.append([round(k * step, 10) for k in range(first, last + 1)])
    powers = range(math.floor(scale.low), math.ceil(scale.high) + 1)
    for steps in TICK_STEPS:
        series.append([step * 10.0 ** e for e in powers for step in steps])
    for every in (2, 3, 4):  # powers of ten only, some of them, 1x among them
        series.append([10.0 ** e for e in powers if e % every == 0])
    series.sort(key=lambda values: -len([v for v in values if low <= v <= high]))
    fitting = []
    for values in series:
        placed = []
        for v in values:
            if low <= v <= high:
                label = f"{figures.tick(v)}x"
                x, half = scale.x(math.log10(v), width), text_width(label) / 2
                if -left <= x - half and x + half <= width + right:
                    placed.append((math.log10(v), label, x, half))
        if placed and all(b[2] - a[2] >= a[3] + b[3] + TICK_GAP
                          for a, b in itertools.pairwise(placed)):
            fitting.append([(v, label) for v, label, _x, _half in placed])
    span = scale.high - scale.low
    for found in fitting:
        if len(found) >= 2 and found[0][0] - scale.low <= TICK_REACH * span \
                and scale.high - found[-1][0] <= TICK_REACH * span:
            return found
    return next((f for f in fitting if len(f) >= 2), fitting[0] if fitting else [])


def _log(value: float) -> float:
    return math.log10(value)


# --- section charts ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One environment's row of a panel: marks on the scale, or a note."""

    env: str
    shade: str
    median: float | None = None  # log10 slowdown; None: the row is a note
    samples: tuple[float, ...] = ()  # log10 slowdown of each sample
    rounds: tuple[int, ...] = ()  # the round of each sample
    interval: tuple[float, float] | None = None  # log10
    note: str = ""


def _row(m: Measurement, baseline: str) -> _Row:
    """Where ``m``'s marks lie against the baseline's median."""
    metric, c = m.metric, m.comparison
    shade = colour(m, baseline)
    if m.median is None:
        return _Row(m.env, shade, note=metric.status)
    if m.env == baseline:
        reference, better, median = m.median, metric.better, 0.0
    elif c is not None and c.verdict != "not-comparable":
        reference, better, median = c.base_median, c.better, _log(c.slowdown)
    elif c is not None:
        return _Row(m.env, shade, note="not comparable")
    else:
        return _Row(m.env, shade, note="no baseline to compare with")
    sign = 1.0 if better == "lower" else -1.0
    samples = tuple(sign * (_log(v) - _log(reference)) for v in metric.samples)
    interval = (_log(c.interval[0]), _log(c.interval[1])) if c and c.interval else None
    return _Row(m.env, shade, median, samples, metric.round_numbers, interval)


def _rows(metric: MetricView, baseline: str) -> list[_Row]:
    return [_row(m, baseline) for m in metric.measurements]


def _section_scale(rows: Sequence[_Row]) -> Scale | None:
    drawn = [r for r in rows if r.median is not None]
    if not drawn:
        return None
    marks = [0.0] + [r.median for r in drawn if r.median is not None] + \
        [b for r in drawn if r.interval for b in r.interval]
    return fit_scale(marks, [s for r in drawn for s in r.samples])


def _section_chart(section: SectionView, baseline: str) -> Chart:
    alt = _section_alt(section, baseline)
    svg = _render(lambda sheet: _draw_section(sheet, section, baseline), title=alt,
                  name=section.anchor)
    return Chart(f"{section.anchor}.svg", alt, svg)


def _section_alt(section: SectionView, baseline: str) -> str:
    parts = []
    for metric in section.metrics:
        values = ", ".join(f"{m.env} {_value_text(m)}" for m in metric.measurements)
        parts.append(f"{metric.name} ({metric.better} is better): {values}")
    return (f"Chart of every sample, the median and the 95% interval per environment in "
            f"section {section.number}, {section.title}, as the slowdown against "
            f"{baseline}'s median on a log scale, one panel per metric. Medians: "
            + "; ".join(parts) + ".")


def _value_text(m: Measurement) -> str:
    """The median in the measurement's own unit (the baseline's, unless the
    units could not be converted)."""
    if m.median is None:
        return m.metric.status
    text = figures.quantity(m.median, m.metric.unit)
    return f"{text} ({m.comparison.label})" if m.comparison else text


def shared_scale(scales: Sequence[Scale | None]) -> Scale | None:
    """One scale for a section's metrics when each would fill at least SHARE of
    it (their slowdowns are alike, as in a section of four sysbench runs):
    one row of ticks instead of one per metric.  None: each keeps its own."""
    if len(scales) < 2 or any(s is None for s in scales):
        return None
    fitted = [s.fitted for s in scales if s is not None]
    low, high = min(f[0] for f in fitted), max(f[1] for f in fitted)
    if any(f[1] - f[0] < SHARE * (high - low) for f in fitted):
        return None
    pad = PAD * (high - low)
    return Scale(low - pad, high + pad, (low, high))


def _draw_section(sheet: _Sheet, section: SectionView, baseline: str) -> float:
    """Every metric's panel, then the axis's name and the legend; returns the height."""
    canvas = sheet.canvas
    rowsets = [_rows(metric, baseline) for metric in section.metrics]
    scales = [_section_scale(rows) for rows in rowsets]
    shared = shared_scale(scales)
    panels = list(zip(section.metrics, rowsets, scales))
    names = {r.env: _wrap_env(r.env) for rows in rowsets for r in rows}
    labels = max((text_width(line) for lines in names.values() for line in lines), default=0.0)
    left = MARGIN + labels + 6.0
    width = WIDTH - left - RIGHT
    y = MARGIN
    legend = _Legend()
    for n, (metric, rows, own) in enumerate(panels):
        scale = shared or own
        last = shared is None or n == len(panels) - 1  # the panel that shows the ticks
        y += (PANEL_GAP if shared is None else 4.0) if n else 0.0
        for line in wrap(metric.name, WIDTH - 2 * MARGIN, bold=True):
            canvas.text(MARGIN, y + BASELINE, line, fontweight="bold")
            y += LINE
        heights = [max(ROW, len(names[r.env]) * LINE + 3.0) for r in rows]
        top, y = y, y + sum(heights) + 4.0
        centres = [top + 2.0 + sum(heights[:i]) + h / 2 for i, h in enumerate(heights)]
        for r, centre in zip(rows, centres):
            canvas.text(left - 6.0, centre, "\n".join(names[r.env]), ha="right",
                        va="center", linespacing=1.1)
            if r.median is None:
                canvas.text(left + 3.0, centre, r.note, va="center", color=MUTED,
                            style="italic")
        if scale is None:
            continue
        ax = sheet.plot((left, top, width, y - top), scale, gid=f"plot-{metric.id}",
                        bands=[(top, y)], labels=last)
        ax.plot([0.0, 0.0], [top, y], color=INK, linewidth=0.8)
        for r, centre in zip(rows, centres):
            if r.median is not None:
                _draw_row(ax, legend, scale, r, centre, f"median-{metric.id}-{r.env}")
        y += TICKS if last else 0.0
    y += 4.0
    for line in wrap(f"slowdown against {baseline}'s median (the line at 1x), log scale; "
                     "right of 1x: slower", WIDTH - 2 * MARGIN):
        canvas.text(MARGIN, y + BASELINE, line, color=MUTED)
        y += LINE
    return legend.draw(canvas, y + 4.0)


def _draw_row(ax: Axes, legend: _Legend, scale: Scale, r: _Row, y: float, gid: str) -> None:
    """Samples on a line per round, the interval as a capped line, the median as a bar."""
    assert r.median is not None
    order = sorted(set(r.rounds))
    step = min(2.5, 10.0 / max(len(order) - 1, 1))
    offsets = {k: (i - (len(order) - 1) / 2) * step for i, k in enumerate(order)}
    low, high = scale.fitted
    for side, marker, inside in ((-1, "<", low), (1, ">", high)):
        beyond = [offsets[k] for s, k in zip(r.samples, r.rounds) if (s - inside) * side > 0]
        if beyond:
            ax.plot([inside] * len(beyond), [y + o for o in beyond], linestyle="none",
                    marker=marker, markersize=4.5, markeredgewidth=0, color=r.shade, alpha=0.8)
            legend.add("beyond", "sample beyond the scale")
    kept = [(s, y + offsets[k]) for s, k in zip(r.samples, r.rounds) if low <= s <= high]
    if kept:
        ax.plot([s for s, _ in kept], [o for _, o in kept], linestyle="none", marker="o",
                markersize=3.6, markeredgewidth=0, color=r.shade, alpha=0.6)
    legend.add("rounds" if len(order) > 1 else "sample",
               "samples, a line per round" if len(order) > 1 else "sample")
    if r.interval is not None:
        ax.plot(list(r.interval), [y, y], color=INK, linewidth=1.0, marker="|", markersize=6,
                markeredgewidth=1.0, solid_capstyle="butt")
        legend.add("interval", "95% interval of the slowdown")
    ends = [y - 6.5, y + 6.5]
    ax.plot([r.median, r.median], ends, color="white", linewidth=4.6, solid_capstyle="butt")
    ax.plot([r.median, r.median], ends, color=r.shade, linewidth=2.6, solid_capstyle="butt",
            gid=gid)
    legend.add("median", "median")


def _wrap_env(env: str) -> list[str]:
    return textwrap.wrap(env, ENV_WIDTH) or [env]


# --- overview ---------------------------------------------------------------------------


def _row_label(name: str, env: str, several: bool) -> str:
    return f"{name}, {env}" if several else name


@dataclass(frozen=True)
class _Overview:
    """The overview's rows: results largest slowdown first, then the inconclusive
    ones (also largest first), then the not comparable ones, named."""

    shown: tuple[tuple[str, Comparison], ...]
    inconclusive: tuple[tuple[str, Comparison], ...]
    apart: tuple[str, ...]  # not comparable
    scale: Scale | None
    bounds: tuple[tuple[str, float], ...]  # tier thresholds inside the scale


def _overview(analysis: Analysis) -> _Overview:
    names = metric_names(analysis)
    several = len(analysis.report.others) > 1
    labelled = [(_row_label(names[c.metric_id], c.env, several), c) for c in analysis.comparisons]
    placed = [x for x in labelled if x[1].verdict != "not-comparable"]
    by_slowdown = sorted(placed, key=lambda x: -x[1].slowdown)  # stable: ties keep report order
    marks = [0.0] + [_log(c.slowdown) for _, c in placed] + \
        [_log(b) for _, c in placed if c.interval for b in c.interval]
    scale = fit_scale(marks) if placed else None
    bounds = tuple((tier, b) for tier, b in _tier_bounds(analysis.report.thresholds)
                   if scale is not None and scale.low < _log(b) < scale.high)
    return _Overview(tuple(x for x in by_slowdown if x[1].verdict != "inconclusive"),
                     tuple(x for x in by_slowdown if x[1].verdict == "inconclusive"),
                     tuple(label for label, c in labelled if c.verdict == "not-comparable"),
                     scale, bounds)


def _overview_alt(analysis: Analysis) -> str:
    plan = _overview(analysis)
    described = "; ".join(f"{label}: {_result_text(c)}"
                          for label, c in plan.shown + plan.inconclusive)
    if plan.apart:
        described += ("; " if described else "") + "; ".join(
            f"{label}: not comparable" for label in plan.apart)
    lines = "".join(f" and a broken line where the {tier} tier begins ({figures.ratio(b)})"
                    for tier, b in plan.bounds)
    return (f"Chart of the slowdown against {analysis.report.baseline} per metric with its 95% "
            f"interval, largest first, inconclusive results after the others, on a log scale "
            f"with a line at 1x (no difference){lines}. {described or 'No comparisons.'}")


def _result_text(c: Comparison) -> str:
    if c.verdict == "not-comparable":
        return "not comparable"
    text = f"{figures.ratio(c.slowdown)} ({c.tier})"
    return f"{text}, interval {figures.interval(c.interval)}" if c.interval else text


MARK_ROW = 11.0  # the band of an overview row's marks, under its label
_TIER_LINES = {"moderate": (0, (4, 2)), "severe": (0, (1, 1.5))}


def _draw_overview(sheet: _Sheet, analysis: Analysis) -> float:
    canvas = sheet.canvas
    plan = _overview(analysis)
    left, right = MARGIN + 12.0, WIDTH - RIGHT
    width = right - left
    y = MARGIN
    legend = _Legend()
    bands: list[tuple[float, float]] = []
    rows: list[tuple[float, Comparison]] = []
    groups = [("", plan.shown), ("Inconclusive: the data cannot tell", plan.inconclusive)]
    for heading, members in groups:
        if not members:
            continue
        if heading:
            y += 6.0 if rows else 0.0
            canvas.text(MARGIN, y + BASELINE, heading, fontweight="bold")
            y += LINE
        for label, c in members:
            figure = figures.ratio(c.slowdown) + (" ?" if c.verdict == "inconclusive" else "")
            room = WIDTH - 2 * MARGIN - text_width(figure) - 6.0
            for n, line in enumerate(wrap(label, room)):
                canvas.text(MARGIN, y + BASELINE, line)
                if n == 0:
                    canvas.text(WIDTH - MARGIN, y + BASELINE, figure, ha="right")
                y += LINE
            rows.append((y + MARK_ROW / 2, c))
            bands.append((y, y + MARK_ROW))
            y += MARK_ROW + 3.0
    if plan.scale is not None:
        top = MARGIN
        ax = sheet.plot((left, top, width, y - top), plan.scale, gid="plot-overview",
                        bands=bands)
        ax.plot(*_broken([0.0], bands), color=INK, linewidth=1.0)
        legend.add("one", "1x: no difference")
        for tier, bound in plan.bounds:
            ax.plot(*_broken([_log(bound)], bands), color=TIER_COLOURS[tier], linewidth=1.0,
                    linestyle=_TIER_LINES[tier])
            legend.add(tier + "-line", f"{tier} from {figures.ratio(bound)}")
        for centre, c in rows:
            _draw_comparison(ax, legend, centre, c)
        y += TICKS
        for line in wrap(f"slowdown against {analysis.report.baseline}, log scale "
                         "(right of 1x: slower)", WIDTH - 2 * MARGIN):
            canvas.text(MARGIN, y + BASELINE, line, color=MUTED)
            y += LINE
    if plan.apart:
        y += 6.0
        canvas.text(MARGIN, y + BASELINE, "Not comparable", fontweight="bold")
        y += LINE
        for line in wrap("; ".join(plan.apart), WIDTH - 2 * MARGIN):
            canvas.text(MARGIN, y + BASELINE, line)
            y += LINE
    if not rows and not plan.apart:
        canvas.text(MARGIN, y + BASELINE, "No comparisons.", color=MUTED)
        y += LINE
    return legend.draw(canvas, y + 4.0)


def _draw_comparison(ax: Axes, legend: _Legend, y: float, c: Comparison) -> None:
    """A marker at the slowdown (shape and colour: the tier; hollow: inconclusive),
    the interval as a line through it."""
    shade = TIER_COLOURS[c.tier]
    if c.interval is not None:
        ax.plot([_log(b) for b in c.interval], [y, y], color=shade, linewidth=1.6,
                solid_capstyle="butt")
        legend.add("overview-interval", "95% interval")
    hollow = c.verdict == "inconclusive"
    ax.plot([_log(c.slowdown)], [y], marker=TIER_MARKERS[c.tier], markersize=6.5, color=shade,
            markerfacecolor="white" if hollow else shade, markeredgewidth=1.3,
            linestyle="none", gid=f"median-{c.metric_id}-{c.env}")
    legend.add("tier-" + c.tier, c.tier.replace("-", " "))


def _tier_bounds(thresholds: Thresholds) -> tuple[tuple[str, float], ...]:
    return ("moderate", thresholds.moderate), ("severe", thresholds.severe)


# --- the legend -------------------------------------------------------------------------


# The legend's entries in the order they are listed, each drawn only when the
# chart drew its mark: key -> how its sample mark is drawn (in a 14 x LINE box).
_LEGEND_ORDER = ("tier-negligible", "tier-moderate", "tier-severe", "tier-inconclusive",
                 "sample", "rounds", "beyond", "median", "interval", "overview-interval",
                 "one", "moderate-line", "severe-line")
GLYPH = 14.0


class _Legend:
    """The names of the marks a chart drew, and nothing else."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def add(self, key: str, text: str) -> None:
        self.entries.setdefault(key, text)

    def draw(self, canvas: Axes, y: float) -> float:
        """The entries in rows that fit the chart's width; returns the height."""
        x = MARGIN
        for key in (k for k in _LEGEND_ORDER if k in self.entries):
            text = self.entries[key]
            size = GLYPH + 4.0 + text_width(text)
            if x > MARGIN and x + size > WIDTH - MARGIN:
                x, y = MARGIN, y + LINE
            _glyph(canvas, key, x, y + LINE / 2 - 1.0)
            canvas.text(x + GLYPH + 4.0, y + BASELINE, text)
            x += size + 12.0
        return y + LINE + MARGIN


def _glyph(canvas: Axes, key: str, x: float, y: float) -> None:
    middle = x + GLYPH / 2
    if key.startswith("tier-"):
        tier = key[5:]
        canvas.plot([middle], [y], marker=TIER_MARKERS[tier], markersize=6.5,
                    color=TIER_COLOURS[tier], markeredgewidth=1.3, linestyle="none",
                    markerfacecolor="white" if tier == "inconclusive" else TIER_COLOURS[tier])
    elif key == "sample":
        canvas.plot([middle], [y], marker="o", markersize=3.6, markeredgewidth=0, color=MUTED,
                    linestyle="none")
    elif key == "rounds":
        canvas.plot([middle - 4, middle, middle + 4], [y - 3.0, y, y + 3.0], marker="o",
                    markersize=3.6, markeredgewidth=0, color=MUTED, linestyle="none")
    elif key == "beyond":
        canvas.plot([middle], [y], marker=">", markersize=4.5, markeredgewidth=0, color=MUTED,
                    linestyle="none")
    elif key == "median":
        canvas.plot([middle, middle], [y - 6.0, y + 6.0], color=INK, linewidth=2.6,
                    solid_capstyle="butt")
    elif key == "interval":
        canvas.plot([x + 1, x + GLYPH - 1], [y, y], color=INK, linewidth=1.0, marker="|",
                    markersize=6, markeredgewidth=1.0, solid_capstyle="butt")
    elif key == "overview-interval":
        canvas.plot([x, x + GLYPH], [y, y], color=MUTED, linewidth=1.6, solid_capstyle="butt")
    elif key == "one":
        canvas.plot([middle, middle], [y - 6.0, y + 6.0], color=INK, linewidth=1.0)
    else:  # a tier's threshold line
        tier = key.removesuffix("-line")
        canvas.plot([middle, middle], [y - 6.0, y + 6.0], color=TIER_COLOURS[tier],
                    linewidth=1.0, linestyle=_TIER_LINES[tier])


# --- shared -----------------------------------------------------------------------------


class _Sheet:
    """A chart being laid out: text and marks in points from its top left on
    ``canvas`` (an axes over the whole figure, itself not drawn), and the plot
    areas, placed once the chart's height is known."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.canvas = fig.add_axes((0.0, 0.0, 1.0, 1.0), zorder=2)
        self.canvas.set_axis_off()
        self.plots: list[tuple[Axes, tuple[float, float, float, float]]] = []

    def plot(self, box: tuple[float, float, float, float], scale: Scale, *, gid: str,
             bands: Sequence[tuple[float, float]], labels: bool = True) -> Axes:
        """A plot area ``box`` (left, top, width, height) with ``scale`` on x and
        points on y; light lines at its ticks through each of ``bands``, and
        with ``labels`` the ticks and their labels under it."""
        from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

        _left, top, width, height = box
        ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.patch.set_gid(gid)
        ax.set_xlim(scale.low, scale.high)
        ax.set_ylim(top + height, top)
        placed = ticks(scale, width, MARGIN + 6.0, RIGHT - MARGIN)
        if placed:
            ax.plot(*_broken([v for v, _ in placed], bands), color=GRID, linewidth=0.6,
                    zorder=0.5)
        if labels:
            ax.xaxis.set_major_locator(FixedLocator([v for v, _ in placed]))
            ax.xaxis.set_major_formatter(FixedFormatter([label for _, label in placed]))
        else:
            ax.xaxis.set_major_locator(NullLocator())
            ax.spines["bottom"].set_visible(False)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        self.plots.append((ax, box))
        return ax

    def finish(self, height: float) -> None:
        self.fig.set_size_inches(WIDTH / 72, height / 72)
        self.canvas.set_xlim(0.0, WIDTH)
        self.canvas.set_ylim(height, 0.0)
        for ax, (left, top, width, tall) in self.plots:
            ax.set_position((left / WIDTH, 1 - (top + tall) / height, width / WIDTH,
                             tall / height))


def _broken(xs: Sequence[float], bands: Sequence[tuple[float, float]]
            ) -> tuple[list[float], list[float]]:
    """One path of vertical segments at each x through each band (NaN between
    them): a single element however many rows."""
    px: list[float] = []
    py: list[float] = []
    for x in xs:
        for top, bottom in bands:
            px += [x, x, math.nan]
            py += [top, bottom, math.nan]
    return px, py


@cache
def _font_properties(bold: bool) -> Any:
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=FONT_FAMILY, size=FONT, weight="bold" if bold else "normal")


@cache
def text_width(text: str, bold: bool = False) -> float:
    """How wide ``text`` is set in the chart font, in points."""
    from matplotlib.textpath import text_to_path

    _register_fonts()
    width, _height, _descent = text_to_path.get_text_width_height_descent(
        text, _font_properties(bold), ismath=False)
    return float(width)


def wrap(text: str, width: float, *, bold: bool = False) -> list[str]:
    """``text`` in lines no wider than ``width`` points, broken at spaces (a word
    wider than a line is broken where it must)."""
    lines: list[str] = []
    for word in text.split():
        while text_width(word, bold) > width and len(word) > 1:
            cut = max(n for n in range(1, len(word) + 1) if text_width(word[:n], bold) <= width
                      or n == 1)
            lines.append(word[:cut])
            word = word[cut:]
        if lines and text_width(f"{lines[-1]} {word}", bold) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [text]


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


def _render(draw: Callable[[_Sheet], float], *, title: str, name: str) -> bytes:
    """Draw a chart WIDTH points wide: ``draw`` lays it out on a sheet and returns
    the height it used."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with _style(name):
        sheet = _Sheet(Figure(figsize=(WIDTH / 72, 1.0)))
        sheet.finish(draw(sheet))
        out = io.BytesIO()
        # No date and no matplotlib version: the bytes depend on the data alone.
        FigureCanvasSVG(sheet.fig).print_svg(  # type: ignore[no-untyped-call]
            out, metadata={"Date": None, "Creator": "reportgen", "Title": title})
    # Ids carry the chart's name, so several charts can sit inline in one page.
    return _ID.sub(lambda m: m.group(1) + name.encode() + b"-", out.getvalue())


def inline(chart: Chart) -> str:
    """The chart as an ``<svg>`` element for the page: no XML prolog, an image role
    and the alt text as its accessible name (markup-safe: alt is escaped).  Its
    width and height stay: the page shows it no wider than it was drawn."""
    from markupsafe import escape

    text = _PAGE_STYLE.sub("", chart.svg.decode())  # style.css has it, for the page's SVGs
    start = text.index("<svg")
    head_end = text.index(">", start)
    return (f'{text[start:head_end]} role="img" aria-label="{escape(chart.alt)}" '
            f'focusable="false"{text[head_end:]}')


# matplotlib's one style rule; inline, its "*" selector would reach the whole page.
_PAGE_STYLE = re.compile(r'\s*<defs>\s*<style type="text/css">[^<]*</style>\s*</defs>')
