"""Figures typed by hand in the prose, held against the analysis.

This module owns the check that runs once a report is analysed: every number
the author typed with a unit, ``x`` or ``%`` in report.yml's text must match a
figure of the report (a median, ratio, interval, change, delta or threshold)
within its printed precision, else it is a warning naming the nearest one;
TODO text left from `reportgen new` is a warning too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportgen.analyse import stats
from reportgen.check.references import text_at, text_paths
from reportgen.core import figures, units
from reportgen.core.errors import Problem
from reportgen.core.placeholders import find
from reportgen.read.report_yml import Loaded

if TYPE_CHECKING:
    from reportgen.analyse.analysis import Analysis


@dataclass(frozen=True)
class Figure:
    """A figure the report measured or computed, as prose may quote it."""

    value: float
    unit: str  # a metric unit, "x" for ratios, "%" for changes
    what: str  # for messages: "syscall.getpid in guest, ratio"


# A number typed with a unit, `x` or `%`: `5.2x`, `99 ns`, `-36%`, `5,728 us`.
_NUMBER = r"(?<![\w.,/])[+\-−~]?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
_TODO = re.compile(r"\bTODO\b")


def prose(loaded: Loaded, analysis: Analysis) -> list[Problem]:
    """Warn about every number typed by hand in the author's text that matches
    no figure of the report, and about TODO text left from `reportgen new`."""
    doc = loaded.document
    known = measured(analysis)
    typed = _typed_pattern({f.unit for f in known})
    warnings = []
    for path in text_paths(doc.data):
        text = _without_placeholders(text_at(doc, path))
        for found in typed.finditer(text):
            message = _unmatched(found, known)
            if message:
                line, col = doc.text_position(path, found.start(), text)
                warnings.append(Problem(doc.path, line, col, message, warning=True))
        for found in _TODO.finditer(text):
            line, col = doc.text_position(path, found.start(), text)
            warnings.append(Problem(doc.path, line, col, "TODO left from `reportgen new`: "
                                                         "replace it with your own words",
                                    warning=True))
    return sorted(warnings)


def measured(analysis: Analysis) -> list[Figure]:
    """Every figure prose may quote: medians, and per comparison the medians,
    ratio (both ways), interval, change, delta; and the report's thresholds."""

    report = analysis.report
    found = [Figure(stats.median(m.samples), m.unit, f"{metric_id} in {env.label}")
             for env in report.environments for metric_id, m in env.metrics.items() if m.usable]
    compared = [(c, f"{c.metric_id} in {c.env}") for c in analysis.comparisons]
    if analysis.since:  # the report against the one it follows, and that one's medians
        since = analysis.since
        found += [Figure(r.then, r.comparison.unit, f"{r.metric_id} in {r.env} in {since.slug}")
                  for r in since.rows]
        compared += [(r.comparison, f"{r.metric_id} in {r.env} since {since.slug}")
                     for r in since.rows]
    for c, what in compared:
        if c.verdict == "not-comparable":  # no ratio, change or interval to quote
            continue
        found += [Figure(c.slowdown, "x", f"{what}, ratio"),
                  Figure(1 / c.slowdown, "x", f"{what}, inverse ratio"),
                  Figure(abs(c.change) * 100, "%", f"{what}, change"),
                  Figure(abs(c.slowdown - 1) * 100, "%", f"{what}, slowdown - 1"),
                  Figure(abs(c.median - c.base_median), c.unit, f"{what}, delta")]
        found += [Figure(b, "x", f"{what}, interval") for b in c.interval or ()]
    t = report.thresholds
    found += [Figure(t.noise * 100, "%", "the noise threshold"),
              Figure(t.moderate, "x", "the moderate threshold"),
              Figure((t.moderate - 1) * 100, "%", "the moderate threshold"),
              Figure(t.severe, "x", "the severe threshold"),
              Figure(t.multiplier, "x", "the multiplier threshold")]
    return found


def _typed_pattern(metric_units: set[str]) -> re.Pattern[str]:
    """Numbers followed by a unit reportgen knows or the report uses (one
    space allowed), or directly by `x`, `×` or `%`."""
    names = {u for f in units.FAMILIES for u in f.units} | (metric_units - {"x", "%", ""})
    alternatives = "|".join(re.escape(u) for u in sorted(names, key=len, reverse=True))
    return re.compile(rf"{_NUMBER}(?: ?({alternatives})|([x×%]))(?![\w/µμ%])")


def _without_placeholders(text: str) -> str:
    """``text`` with each placeholder blanked out: its figures are not typed by hand."""
    for start, end, _expr in find(text):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _unmatched(found: re.Match[str], known: list[Figure]) -> str:
    """"" when the typed number matches a figure within its printed precision,
    else the warning, naming the nearest figure of the same kind."""
    whole, decimals, unit = found.group(1), found.group(2) or "", found.group(3) or found.group(4)
    unit = "x" if unit == "×" else unit
    typed = float(whole.replace(",", "") + (f".{decimals}" if decimals else ""))
    tolerance = 0.5 * 10 ** -len(decimals) * (1 + 1e-9)
    candidates = []
    for figure in known:
        scale = 1.0 if figure.unit == unit else units.factor(figure.unit, unit)
        if scale is None:
            continue
        value = figure.value * scale
        if abs(value - typed) <= tolerance:
            return ""
        candidates.append((abs(math.log(max(value, 1e-300) / max(typed, 1e-300))), value, figure))
    shown = found.group(0).lstrip()
    if not candidates:
        return (f"figure '{shown}' typed by hand: the report measured nothing in {unit}; "
                "write it with a placeholder")
    _, value, nearest = min(candidates, key=lambda c: c[0])
    return (f"figure '{shown}' typed by hand matches no figure of the report (nearest: "
            f"{figures.number(value)}{'' if unit in ('x', '%') else ' '}{unit}, "
            f"{nearest.what}); write it with a placeholder")
