"""A series' page, its trend chart and series.json, from its view.

output/series/<id>/index.html lists the changes (newest first), the reports,
a trend chart and, per metric and environment, a table of every report's
median with its interval and the step from the report before.  series.json
(format ``reportgen-series/1``, docs/series.schema.json) says the same for
scripts: a CI job fails on a new regression when the newest report's step
says ``worse``.  Same view, same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reportgen.analyse.series_view import CHANGES, Change, Line, View
from reportgen.core import figures
from reportgen.render import charts
from reportgen.render.analysis_json import json_number

if TYPE_CHECKING:
    from reportgen.render.charts import _Sheet

FORMAT = "reportgen-series/1"
SERIES_FILE = "series.json"
CHART_FILE = "trend.svg"
LATEST_ON_INDEX = 3  # reports with changes listed per series on the site index
NAMED_ON_INDEX = 2  # a report with more changes than this gets counts, not names
PLOT = 56.0  # the height of one line's plot, points
AXIS = 46.0  # room left of a plot for its value labels ("48,000")
TICK = 3.0  # a tick mark's length, as the report charts' (charts._STYLE)
TICK_PAD = 2.5  # between a tick mark and its label
EDGE = 1e-9  # of a plot's span: a tick this close outside its ends is on them
# A change's mark, as the report charts draw the tier its badge wears
# (series_view.Step.tier): worse like severe, better like negligible; larger
# than a plain median, which is a small black dot.
MARKS = {"worse": (charts.TIER_MARKERS["severe"], charts.TIER_COLOURS["severe"]),
         "better": (charts.TIER_MARKERS["negligible"], charts.TIER_COLOURS["negligible"])}


@dataclass(frozen=True)
class IndexEntry:
    """What the site index shows of a series."""

    title: str
    href: str  # relative to the index
    reports: int
    latest: tuple[str, ...]  # its newest changes, in words


def change_text(c: Change) -> str:
    """``2026-12-07, Contention 3: host: getpid() latency worse (+48%)``."""
    return f"{c.date}, {c.title}: {c.line.env}: {c.line.name} {c.step.words}"


def index_entry(view: View, folder: str) -> IndexEntry:
    """The series on the site index: a line for each of the newest reports
    with changes (``2026-12-07, report 4 (Run 4): 8 better``)."""
    number = view.numbers
    latest = []
    for slug, changes in view.changes_by_report[:LATEST_ON_INDEX]:
        first = changes[0]
        if len(changes) <= NAMED_ON_INDEX:
            what = "; ".join(f"{c.line.env}: {c.line.name} {c.step.words}" for c in changes)
        else:
            counts = [(sum(c.step.verdict == v for c in changes), v) for v in CHANGES]
            what = ", ".join(f"{n} {v}" for n, v in counts if n)
        latest.append(f"{first.date}, report {number[slug]} ({first.title}): {what}")
    return IndexEntry(view.title, f"{folder}/index.html", len(view.members), tuple(latest))


def document(view: View) -> bytes:
    """series.json; keys sorted, numbers to six significant digits."""
    def num(value: float | None) -> float | None:
        return None if value is None or math.isnan(value) else json_number(value)

    data = {
        "format": FORMAT,
        "series": {"id": view.id, "title": view.title},
        "reports": [{"slug": m.slug, "title": m.title, "date": m.date} for m in view.members],
        "lines": [{"metric": line.metric, "name": line.name, "unit": line.unit,
                   "better": line.better, "env": line.env,
                   "points": [{"report": slug, "median": num(median),
                               "interval": [num(b) for b in bounds] if bounds else None}
                              for slug, median, bounds in line.points],
                   "steps": [{"from": s.before, "to": s.after, "verdict": s.verdict,
                              "label": s.label, "change": num(s.change),
                              "p_value": num(s.p_value), "reason": s.reason}
                             for s in line.steps]}
                  for line in view.lines],
        "changes": [{"from": c.step.before, "to": c.step.after, "date": c.date,
                     "metric": c.line.metric, "name": c.line.name, "env": c.line.env,
                     "verdict": c.step.verdict, "label": c.step.label,
                     "change": num(c.step.change)} for c in view.changes],
    }
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def page(view: View, chart: charts.Chart) -> str:
    """output/series/<id>/index.html."""
    from reportgen.render import html

    return html.environment().get_template("series.html").render(
        v=view, chart=chart, root="../..", number=view.numbers,
        href={m.slug: f"../../{quote(m.slug, safe='')}/index.html" for m in view.members},
        steps={(line.metric, line.env): {s.after: s for s in line.steps} for line in view.lines},
        series_file=SERIES_FILE, chart_file=f"charts/{CHART_FILE}")


def trend_chart(view: View) -> charts.Chart:
    """Every line's medians with their intervals across the series, one
    panel per metric and environment; a step that is a change is marked on
    the later report (a vermillion triangle: worse; a larger green dot: better)."""
    alt = _alt(view)
    svg = charts._render(lambda sheet: _draw(sheet, view), title=alt, name=f"series-{view.id}")
    return charts.Chart(CHART_FILE, alt, svg)


def _alt(view: View) -> str:
    parts = []
    for line in view.lines:
        values = ", ".join(figures.quantity(median, line.unit) for _, median, _ in line.points)
        parts.append(f"{line.name} in {line.env}: {values}")
    changes = "; ".join(change_text(c) for c in view.changes) or "none"
    return (f"Trend chart of the series {view.title}: the median and its 95% interval of each "
            f"report, in order, per metric and environment. Medians: {'; '.join(parts)}. "
            f"Changes: {changes}.")


def _draw(sheet: _Sheet, view: View) -> float:
    """Every line's panel, then the key; returns the height used."""
    canvas = _Panel(sheet)
    left = charts.MARGIN + AXIS
    width = charts.WIDTH - left - charts.RIGHT
    y = charts.MARGIN
    for n, line in enumerate(view.lines):
        y += charts.PANEL_GAP if n else 0.0
        title = f"{line.name}, {line.env} ({figures.unit(line.unit)}; {line.better} is better)"
        for text in charts.wrap(title, charts.WIDTH - 2 * charts.MARGIN, bold=True):
            canvas.text(charts.MARGIN, y + charts.BASELINE, text, fontweight="bold")
            y += charts.LINE
        _panel(canvas, line, [m.slug for m in view.members], (left, y, width, PLOT))
        y += PLOT + charts.TICKS
    key = ("x: the reports in order (numbered as in the tables); bars: 95% interval of the "
           "median; vermillion triangle: worse than the report before; large green dot: "
           "better")
    for text in charts.wrap(key, charts.WIDTH - 2 * charts.MARGIN):
        canvas.text(charts.MARGIN, y + charts.BASELINE, text, color=charts.MUTED)
        y += charts.LINE
    return y + charts.MARGIN


class _Panel:
    """Marks and labels on a sheet, in its canvas' points, made as the
    figure's own artists: through the canvas (Axes.plot, Axes.text) each
    paid for data limits and a clip path, most of a long chart's time."""

    def __init__(self, sheet: _Sheet) -> None:
        self.fig = sheet.fig
        self.points = sheet.canvas.transData  # read when drawn: the canvas' final size

    def line(self, xs: Sequence[float], ys: Sequence[float], **style: Any) -> None:
        from matplotlib.lines import Line2D

        self.fig.add_artist(Line2D(xs, ys, transform=self.points, **style))

    def text(self, x: float, y: float, text: str, **style: Any) -> None:
        self.fig.text(x, y, text, transform=self.points, **style)


@dataclass(frozen=True)
class _Frame:
    """Where a line's panel lies on the chart, in points from its top left,
    and what it spans: the reports (``count``) across, ``low`` to ``high`` up."""

    left: float
    top: float
    width: float
    height: float
    count: int
    low: float
    high: float

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x(self, number: float) -> float:
        """The middle of the report at ``number`` (0: the first) in the series."""
        return self.left + (number + 0.5) / self.count * self.width

    def y(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * self.height


def _panel(canvas: _Panel, line: Line, slugs: list[str], box: tuple[float, float, float, float]
           ) -> None:
    """One line's plot, drawn on the chart's canvas in points like its text.
    Not an Axes of its own: a series has a panel per metric and environment,
    and each Axes' set-up, ticks and layout made most of a long chart's time."""
    frame = _Frame(*box, len(slugs), *_limits(line))
    where = {slug: n for n, slug in enumerate(slugs)}
    _marks(canvas, line, [where[slug] for slug, _, _ in line.points], frame)
    _axes(canvas, line, frame)


def _limits(line: Line) -> tuple[float, float]:
    """The value axis of a line's panel: its medians and intervals, a tenth of
    their span beyond them on each side."""
    values = [median for _, median, _ in line.points] + \
        [b for _, _, bounds in line.points if bounds for b in bounds]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 1.0
    return low - pad, high + pad


def _marks(canvas: _Panel, line: Line, numbers: list[int], frame: _Frame) -> None:
    """The medians joined by a light line, their intervals as bars, the
    changes' marks; ``numbers``: each point's report, counted from 0."""
    canvas.line([frame.x(n) for n in numbers], [frame.y(median) for _, median, _ in line.points],
                color=charts.GRID, linewidth=1.0, zorder=1)
    bars_x: list[float] = []
    bars_y: list[float] = []
    for n, (_slug, _median, bounds) in zip(numbers, line.points):
        if bounds:  # every interval in one path: a chart of 50 reports stays quick to draw
            bars_x += [frame.x(n), frame.x(n), math.nan]
            bars_y += [frame.y(bounds[0]), frame.y(bounds[1]), math.nan]
    canvas.line(bars_x, bars_y, color=charts.MUTED, linewidth=1.0, zorder=2,
                gid=f"intervals-{line.metric}-{line.env}")
    changed = {s.after: s.verdict for s in line.steps if s.changed}
    plain = [(n, median) for n, (slug, median, _) in zip(numbers, line.points)
             if slug not in changed]
    canvas.line([frame.x(n) for n, _ in plain], [frame.y(m) for _, m in plain], marker="o",
                color=charts.INK, markersize=3.5, linestyle="none", zorder=3,
                gid=f"points-{line.metric}-{line.env}")
    for n, (slug, median, _) in zip(numbers, line.points):
        if slug in changed:  # few: each its own mark, named by the report's number
            marker, colour = MARKS[changed[slug]]
            canvas.line([frame.x(n)], [frame.y(median)], marker=marker, color=colour,
                        markersize=7, linestyle="none", zorder=3,
                        gid=f"change-{line.metric}-{line.env}-{n + 1}")


def _axes(canvas: _Panel, line: Line, frame: _Frame) -> None:
    """The plot's left and bottom edges (light), its ticks (muted; each kind
    one path) and their labels: the report numbers, at most a dozen, and a
    few round values."""
    from matplotlib.ticker import MaxNLocator

    left, bottom = frame.left, frame.bottom
    canvas.line([left, left, left + frame.width], [frame.top, bottom, bottom],
                color=charts.GRID, linewidth=0.8, zorder=2.5,
                gid=f"trend-{line.metric}-{line.env}")
    numbered = range(0, frame.count, max(1, math.ceil(frame.count / 12)))
    near = EDGE * (frame.high - frame.low)
    levels = [float(v) for v in MaxNLocator(3).tick_values(frame.low, frame.high)
              if frame.low - near <= v <= frame.high + near]
    ticks_x = [x for n in numbered for x in (frame.x(n), frame.x(n), math.nan)]
    ticks_y = [y for _n in numbered for y in (bottom, bottom + TICK, math.nan)]
    ticks_x += [x for _v in levels for x in (left - TICK, left, math.nan)]
    ticks_y += [y for v in levels for y in (frame.y(v), frame.y(v), math.nan)]
    canvas.line(ticks_x, ticks_y, color=charts.MUTED, linewidth=0.8, zorder=2.5)
    for n in numbered:
        canvas.text(frame.x(n), bottom + TICK + TICK_PAD, str(n + 1), ha="center", va="top",
                    color=charts.MUTED)
    for v in levels:
        canvas.text(left - TICK - TICK_PAD, frame.y(v), figures.number(v) if v > 0 else "0",
                    ha="right", va="center_baseline", color=charts.MUTED)


def write_all(view: View) -> dict[str, bytes]:
    """Every file of a series' folder, by name relative to it."""
    chart = trend_chart(view)
    return {SERIES_FILE: document(view), f"charts/{CHART_FILE}": chart.svg,
            "index.html": page(view, chart).encode()}


def json_only(view: View) -> dict[str, bytes]:
    """A site without HTML still gets series.json."""
    return {SERIES_FILE: document(view)}
