"""analysis.json: every verdict of a report and its headline, for machines.

The format is ``reportgen-analysis/1``, described by
``reportgen/schemas/analysis.schema.json``.  Same analysis, same bytes: keys
are sorted, comparisons ordered by metric id then environment, and numbers
rounded to six significant digits so that no last-bit noise of the
arithmetic reaches the file.
"""

from __future__ import annotations

import json
from typing import Any

from reportgen.analyse import wording
from reportgen.analyse.analysis import Analysis
from reportgen.analyse.compare import Comparison
from reportgen.analyse.headline import EnvHeadline
from reportgen.analyse.since import Since

FORMAT = "reportgen-analysis/1"
ANALYSIS_FILE = "analysis.json"
DIGITS = 6  # significant digits of every number written


def render(analysis: Analysis) -> bytes:
    return (json.dumps(document(analysis), indent=1, sort_keys=True, ensure_ascii=False)
            + "\n").encode()


def document(analysis: Analysis) -> dict[str, Any]:
    report = analysis.report
    names = {m.id: m.name for s in analysis.sections for m in s.metrics}
    ordered = sorted(analysis.comparisons, key=lambda c: (c.metric_id, c.env))
    found = {"since": _since(analysis.since)} if analysis.since else {}
    return found | {
        "format": FORMAT,
        "report": {"slug": report.slug, "title": report.title,
                   "date": report.date.isoformat(), "baseline": report.baseline,
                   "environments": [e.label for e in report.environments]},
        "comparisons": [_comparison(c, names[c.metric_id]) for c in ordered],
        "headline": [_headline(h) for h in analysis.headline.envs],
    }


def _comparison(c: Comparison, name: str) -> dict[str, Any]:
    # A comparison that is not comparable has no slowdown to publish.
    shown = c.verdict != "not-comparable"
    return {
        "metric": c.metric_id,
        "name": name,
        "env": c.env,
        "verdict": c.verdict,
        "label": c.label,
        "words": wording.direction(c),
        "tier": c.tier,
        "slowdown": json_number(c.slowdown) if shown else None,
        "interval": _pair(c.interval) if shown else None,
        "p_value": None if c.p_value is None else json_number(c.p_value),
        "rounds": {"baseline": c.rounds[0], "env": c.rounds[1]},
        "samples": {"baseline": c.samples[0], "env": c.samples[1]},
        "reason": c.reason or None,
        "rule": c.rule or None,
    }


def _since(found: Since) -> dict[str, Any]:
    """The report against the one it follows: each comparison now against
    then (slowdown > 1: worse now), and how each slowdown against the shared
    baseline moved."""
    return {
        "report": {"slug": found.slug, "title": found.title, "date": found.date.isoformat()},
        "baseline": found.baseline or None,
        "comparisons": [_comparison(r.comparison, r.name) | {
                            "then": json_number(r.then), "now": json_number(r.now), "unit": r.comparison.unit}
                        for r in sorted(found.rows, key=lambda r: (r.metric_id, r.env))],
        "slowdowns": [{"metric": m.metric_id, "name": m.name, "env": m.env,
                       "then": None if m.then is None else json_number(m.then),
                       "now": None if m.now is None else json_number(m.now)}
                      for m in sorted(found.moved, key=lambda m: (m.metric_id, m.env))],
    }


def _headline(h: EnvHeadline) -> dict[str, Any]:
    return {
        "env": h.env,
        "geomean": None if h.geomean is None else json_number(h.geomean),
        "interval": _pair(h.interval),
        "included": h.included,
        "counts": dict(h.counts),
        "worst": [{"metric": w.metric_id, "name": w.name, "label": w.label, "words": w.words,
                   "slowdown": json_number(w.slowdown)} for w in h.worst],
        "inconclusive": h.undecided or None,
    }


def _pair(bounds: tuple[float, float] | None) -> list[float] | None:
    return None if bounds is None else [json_number(bounds[0]), json_number(bounds[1])]


def json_number(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")
