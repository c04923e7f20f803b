"""A report's point in a series, and a series' changes, as plain data.

A report's render worker computes its *point*: per environment and metric
its median with a 95% interval (the two-level bootstrap of the median), and
the *step* from the report before it in the series, by the rules of a
"Since" comparison (analyse/since.py).  The point is JSON, kept in the build
manifest, so the series pages are made in the main process without loading
any report again.  analyse/series_view.py turns the points of a series into what
its page and series.json show.  No I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from reportgen.analyse import stats
from reportgen.analyse.analysis import Analysis, noise_bands, noise_floors
from reportgen.analyse.series_view import Point
from reportgen.analyse.since import Since, since_part
from reportgen.core.model import Metric, Report


def of_report(analysis: Analysis, before: str, load: Callable[[], Report | None]) -> Point:
    """The point of an analysed report in its series; ``before`` is the slug
    of the report before it there ("" for the first), ``load`` loads that
    report (None when it cannot be).  The step is the report's "Since" part
    when it follows that very report."""
    step = None
    if analysis.since is not None and analysis.since.slug == before:
        step = analysis.since
    elif before and (earlier := load()) is not None:
        step = since_part(analysis.report, earlier, noise_bands(noise_floors(analysis.report)),
                          {})
    shown = dict.fromkeys(m.id for s in analysis.sections for m in s.metrics)
    return point([(e.label, e.metrics[m]) for e in analysis.report.environments
                  for m in shown if m in e.metrics], step)


def point(report_metrics: Sequence[tuple[str, Metric]], step: Since | None) -> Point:
    """``report_metrics``: (env label, model Metric) of every shown metric,
    in the report's own units (harmonised to its baseline)."""
    metrics = []
    for env, m in report_metrics:
        if not m.usable:
            continue
        bounds = stats.median_interval(m, stats.seed(m.id, f"{env}/series"))
        metrics.append({"metric": m.id, "name": m.name, "unit": m.unit, "better": m.better,
                        "env": env, "median": stats.median(m.samples),
                        "interval": list(bounds) if bounds else None,
                        "rounds": len(set(m.round_numbers))})
    return {"metrics": metrics, "step": None if step is None else {
        "from": step.slug,
        "changes": [{"metric": r.metric_id, "env": r.env, "verdict": r.comparison.verdict,
                     "label": r.comparison.label, "words": r.words,
                     "change": None if math.isnan(r.comparison.change) else r.comparison.change,
                     "p_value": r.comparison.p_value,
                     "interval": list(r.comparison.interval) if r.comparison.interval else None,
                     "reason": r.comparison.reason or None}
                    for r in step.rows]}}
