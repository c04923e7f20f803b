"""Checks stage: what the report's parts must agree on, once each file is read.

The loader only reads and validates each file on its own.  This stage looks
across them: the metrics and placeholders report.yml names must exist in the
results, the environments must have been measured alike to be compared, and
numbers typed by hand must match the data.  Errors are raised at once as an
:class:`~reportgen.core.errors.InputError`; warnings are returned.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.analyse.comparability import files_of, incomparable, oversubscribed
from reportgen.core import figures, units
from reportgen.core.documents import Document, KeyPath, parse_json
from reportgen.core.errors import InputError, Problem, display
from reportgen.core.model import Environment, Report
from reportgen.core.placeholders import PlaceholderError, find, hint, refs
from reportgen.read.report_yml import Loaded, load_report

if TYPE_CHECKING:
    from reportgen.analyse.analysis import Analysis


def analysed(report_dir: Path, known: Callable[[Report], Mapping[str, float | None]] | None = None
             ) -> tuple[Analysis, list[Problem]]:
    """One report loaded, checked and analysed, with every warning about it:
    the load stage's, the cross-file checks' and the hand-typed figures'.
    ``known`` gives the loaded report's p-values from an earlier build, if
    any (see analysis.analyse).  Raises InputError with every problem."""
    from reportgen.analyse.analysis import analyse  # numpy and scipy: only once a report is loaded

    loaded = load_report(report_dir)
    warnings = loaded.warnings + check(loaded)
    analysis = analyse(loaded.report, known(loaded.report) if known else None)
    return analysis, warnings + prose(loaded, analysis)


def check(loaded: Loaded) -> list[Problem]:
    """Every cross-file check of one loaded report: raise the errors, return the warnings."""
    doc, report = loaded.document, loaded.report
    problems = _check_references(doc, report) + _check_units(loaded)
    if problems:
        raise InputError(problems)
    return _check_comparable(doc, report) + _check_threads(loaded)


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
    from reportgen.analyse.analysis import scope as report_scope  # numpy: as in analysed()

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
    from reportgen.core import markdown  # markdown-it loads slowly; only reports need it

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

def _check_units(loaded: Loaded) -> list[Problem]:
    """A unit that differs from the baseline's must be convertible into it."""
    report = loaded.report
    base = report.environment(report.baseline)
    problems = []
    for env in report.others:
        for metric_id, metric in env.metrics.items():
            ref = base.metrics.get(metric_id)
            if ref is None or units.factor(metric.unit, ref.unit) is not None:
                continue
            unknown = [(e, m) for e, m in ((env, metric), (base, ref)) if units.family(m.unit) is None]
            if not unknown:
                continue  # two known families: not comparable, not refused
            where, odd = unknown[0]
            other = ref if odd is metric else metric
            known = ", ".join(u for f in units.FAMILIES for u in f.units)
            problems.append(_results_problem(
                loaded, where, metric_id, ("unit",),
                f"metric '{metric_id}': unknown unit '{odd.unit}' differs from "
                f"'{other.unit}' in {files_of(base if odd is metric else env)} and cannot "
                f"be converted (units reportgen converts: {known})"))
    return problems


def _check_comparable(doc: Document, report: Report) -> list[Problem]:
    """Warn about every shown metric an environment measured differently."""
    base = report.environment(report.baseline)
    warnings = []
    for i, section in enumerate(report.sections):
        for j, sm in enumerate(section.metrics):
            for env in report.others:
                reason = incomparable(base, env, sm.id)
                if reason:
                    warnings.append(doc.problem(("sections", i, "metrics", j),
                                                f"metric '{sm.id}' is not comparable: {reason}",
                                                warning=True))
    return warnings


def _check_threads(loaded: Loaded) -> list[Problem]:
    return [_results_problem(loaded, env, metric_id, ("params", "threads"),
                             f"metric '{metric_id}' ran {threads} threads on {cpus} CPU "
                             f"threads: they competed for CPUs", warning=True)
            for env in loaded.report.environments
            for metric_id, threads, cpus in oversubscribed(env)]


def _results_problem(loaded: Loaded, env: Environment, metric_id: str, field: KeyPath,
                     message: str, *, warning: bool = False) -> Problem:
    """A problem at a metric's ``field`` in the first of ``env``'s results files that has it."""
    names = env.file_names or (env.file_name,)
    contents = {f.name: f.content for f in loaded.report.inputs}
    for name in names:
        if name not in contents:
            continue
        doc = parse_json(contents[name].decode("utf-8"), display(loaded.directory / name))
        for index, raw in enumerate(doc.data.get("metrics", [])):
            if raw.get("id") == metric_id:
                return doc.problem(("metrics", index) + field, message, warning=warning)
    return Problem(display(loaded.directory / names[0]), 1, 1, message, warning)


# --- hand-typed figures --------------------------------------------------------------

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
    for path in _text_paths(doc.data):
        text = _without_placeholders(_string(doc, path))
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
    from reportgen.analyse import compare  # numpy: only once a report is analysed

    report = analysis.report
    found = [Figure(compare.median(m.samples), m.unit, f"{metric_id} in {env.label}")
             for env in report.environments for metric_id, m in env.metrics.items() if m.usable]
    for c in analysis.comparisons:
        if c.verdict == "not-comparable":  # no ratio, change or interval to quote
            continue
        what = f"{c.metric_id} in {c.env}"
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
