"""References from report.yml into the results, and placeholders in its prose.

This module owns the checks that what report.yml names exists: the metric ids
of its sections and conclusions are measured in every environment, each
placeholder in the author's text resolves to a figure that was measured, the
links and images in that text are allowed (see links), and the thresholds are
in order.  It also owns where in report.yml the author's text is
(:func:`text_paths`), which the check of hand-typed figures reads too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reportgen.check.links import link_problems
from reportgen.core.documents import Document, KeyPath
from reportgen.core.errors import Problem
from reportgen.core.model import Report
from reportgen.core.placeholders import PlaceholderError, hint, refs


def check_references(doc: Document, report: Report, earlier: Report | None = None
                     ) -> list[Problem]:
    """Metric ids, placeholders and links in the author's text; ``since.``
    placeholders are looked up in ``earlier``, the report this one follows."""
    problems: list[Problem] = []
    data = doc.data
    t = report.thresholds
    if t.moderate >= t.severe:
        problems.append(doc.problem(("thresholds",), "thresholds: moderate must be below severe"))
    for i, raw in enumerate(data["sections"]):
        for j, m in enumerate(raw["metrics"]):
            path = ("sections", i, "metrics", j) + (() if isinstance(m, str) else ("id",))
            problems.extend(_check_metric(doc, report, path, m if isinstance(m, str) else m["id"]))
    for i, item in enumerate(data.get("conclusions", {}).get("items", [])):
        for j, metric_id in enumerate(item["metrics"]):
            problems.extend(_check_metric(doc, report, ("conclusions", "items", i, "metrics", j),
                                          metric_id))
    for path in text_paths(data):
        problems.extend(_check_text(doc, report, path, earlier))
    return problems


def _check_metric(doc: Document, report: Report, path: KeyPath, metric_id: str) -> list[Problem]:
    missing = [e.file_name for e in report.environments if metric_id not in e.metrics]
    if not missing:
        return []
    known = set().union(*(e.metrics for e in report.environments))
    return [doc.problem(path, f"unknown metric '{metric_id}': not in {', '.join(missing)}"
                              f"{hint(metric_id, known)}")]


def text_paths(data: dict[str, Any]) -> Iterator[KeyPath]:
    """Every field where the author may write placeholders."""
    for key in ("intro", "summary"):
        if key in data:
            yield (key,)
    for i, row in enumerate(data.get("system", [])):
        if isinstance(row["value"], str):
            yield ("system", i, "value")
    for i, section in enumerate(data["sections"]):
        for key in ("analysis", "label"):
            if key in section:
                yield ("sections", i, key)
    for i, item in enumerate(data.get("conclusions", {}).get("items", [])):
        if "note" in item:
            yield ("conclusions", "items", i, "note")


def text_at(doc: Document, path: KeyPath) -> str:
    """The text at ``path``, which :func:`text_paths` has found to exist."""
    value: Any = doc.data
    for part in path:
        value = value[part]
    return str(value)


def _check_text(doc: Document, report: Report, path: KeyPath, earlier: Report | None
                ) -> list[Problem]:
    from reportgen.analyse import since  # numpy: as in checks.analysed()
    from reportgen.analyse.analysis import scope as report_scope

    text = text_at(doc, path)
    scope = report_scope(report, earlier)
    problems = []
    for offset, expr, ref in refs(text, scope):
        line, col = doc.text_position(path, offset, text)
        if isinstance(ref, PlaceholderError):
            problems.append(Problem(doc.path, line, col, ref.message))
        elif ref.since and earlier is not None and ref.metric is not None and \
                not since.usable(report, earlier, ref.metric, ref.env):
            problems.append(Problem(doc.path, line, col,
                                    f"placeholder '{{{{ {expr} }}}}' has no figure: metric "
                                    f"'{ref.metric}' was not measured successfully in "
                                    f"'{ref.env}' in this report or in '{earlier.slug}'"))
        elif not ref.since and ref.metric is not None and \
                not _usable(report, ref.metric, ref.env, ref.field):
            problems.append(Problem(doc.path, line, col,
                                    f"placeholder '{{{{ {expr} }}}}' has no figure: metric "
                                    f"'{ref.metric}' was not measured successfully in "
                                    f"'{ref.env}' or the baseline"))
    for line_offset, message in link_problems(text):
        line, col = doc.text_position(path, line_offset, text)
        problems.append(Problem(doc.path, line, col, message))
    return problems


def _usable(report: Report, metric_id: str, env: str, field: str) -> bool:
    def ok(label: str) -> bool:
        metric = report.environment(label).metrics.get(metric_id)
        return metric is not None and metric.usable

    return ok(env) and (field == "value" or ok(report.baseline))
