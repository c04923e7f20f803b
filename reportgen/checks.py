"""Checks stage: what the report's parts must agree on, once each file is read.

The loader only reads and validates each file on its own.  This stage looks
across them: the metrics and placeholders report.yml names must exist in the
results, the environments must have been measured alike to be compared, and
numbers typed by hand must match the data.  Errors are raised at once as an
:class:`~reportgen.errors.InputError`; warnings are returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reportgen.documents import Document, KeyPath
from reportgen.errors import InputError, Problem
from reportgen.load import Loaded
from reportgen.model import Report
from reportgen.placeholders import PlaceholderError, hint, refs


def check(loaded: Loaded) -> list[Problem]:
    """Every cross-file check of one loaded report: raise the errors, return the warnings."""
    doc, report = loaded.document, loaded.report
    problems = _check_references(doc, report)
    if problems:
        raise InputError(problems)
    return _check_tools(doc, report)


# --- references ----------------------------------------------------------------

def _check_references(doc: Document, report: Report) -> list[Problem]:
    """Metric ids, placeholders and links in the author's text."""
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
    for path in _text_paths(data):
        problems.extend(_check_text(doc, report, path))
    return problems


def _check_metric(doc: Document, report: Report, path: KeyPath, metric_id: str) -> list[Problem]:
    missing = [e.file_name for e in report.environments if metric_id not in e.metrics]
    if not missing:
        return []
    known = set().union(*(e.metrics for e in report.environments))
    return [doc.problem(path, f"unknown metric '{metric_id}': not in {', '.join(missing)}"
                              f"{hint(metric_id, known)}")]


def _text_paths(data: dict[str, Any]) -> Iterator[KeyPath]:
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


def _string(doc: Document, path: KeyPath) -> str:
    """The text at ``path``, which :func:`_text_paths` has found to exist."""
    value: Any = doc.data
    for part in path:
        value = value[part]
    return str(value)


def _check_text(doc: Document, report: Report, path: KeyPath) -> list[Problem]:
    from reportgen.analysis import scope as report_scope

    text = _string(doc, path)
    scope = report_scope(report)
    problems = []
    for offset, expr, ref in refs(text, scope):
        line, col = doc.text_position(path, offset, text)
        if isinstance(ref, PlaceholderError):
            problems.append(Problem(doc.path, line, col, ref.message))
        elif ref.metric is not None and not _usable(report, ref.metric, ref.env, ref.field):
            problems.append(Problem(doc.path, line, col,
                                    f"placeholder '{{{{ {expr} }}}}' has no figure: metric "
                                    f"'{ref.metric}' was not measured successfully in "
                                    f"'{ref.env}' or the baseline"))
    for line_offset, message in _link_problems(text):
        line, col = doc.text_position(path, line_offset, text)
        problems.append(Problem(doc.path, line, col, message))
    return problems


def _usable(report: Report, metric_id: str, env: str, field: str) -> bool:
    def ok(label: str) -> bool:
        metric = report.environment(label).metrics.get(metric_id)
        return metric is not None and metric.usable

    return ok(env) and (field == "value" or ok(report.baseline))


ALLOWED_LINKS = ("http://", "https://", "mailto:", "#")
# markdown-it drops these links before we see them: find them in the raw text.
_UNSAFE_URL = re.compile(r"\]\(\s*((?:javascript|vbscript|file|data):"
                         r"[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)", re.IGNORECASE)


def _link_problems(text: str) -> Iterator[tuple[int, str]]:
    """Links must be web, mail or in-page; images only the report's own charts."""
    from reportgen import markdown  # markdown-it loads slowly; only reports need it

    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    for token in markdown.parser().parse(text):
        block = line_starts[token.map[0]] if token.map and token.map[0] < len(line_starts) else 0
        for child in token.children or ():
            if child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                if not href.startswith(ALLOWED_LINKS) and (":" in href or href.startswith("/")):
                    yield _find(text, href, block), (f"link to '{href}' is not allowed: links "
                                                     "may use http(s), mailto or a relative path")
            elif child.type == "image":
                src = str(child.attrs.get("src", ""))
                if not (src.startswith("charts/") and ".." not in src and src.endswith(".svg")):
                    yield _find(text, src, block), (f"image '{src}' is not allowed: the text "
                                                    "may only show the report's own charts "
                                                    "(charts/<name>.svg)")
    for found in _UNSAFE_URL.finditer(text):
        yield found.start(1), (f"'{found.group(1)}' is not allowed: links may use http(s), "
                               "mailto or a relative path")


def _find(text: str, needle: str, start: int) -> int:
    found = text.find(needle, start)
    return found if found >= 0 else start


# --- comparability ---------------------------------------------------------------

def _check_tools(doc: Document, report: Report) -> list[Problem]:
    """Warn when environments measured a section's metric with different tools."""
    warnings = []
    for i, section in enumerate(report.sections):
        for j, sm in enumerate(section.metrics):
            tools = {e.label: e.metrics[sm.id].tool for e in report.environments}
            if len(set(tools.values())) > 1:
                listed = ", ".join(f"{t or 'unknown tool'} in {e}" for e, t in tools.items())
                warnings.append(doc.problem(("sections", i, "metrics", j),
                                            f"metric '{sm.id}' was measured with different "
                                            f"tools: {listed}", warning=True))
    return warnings
