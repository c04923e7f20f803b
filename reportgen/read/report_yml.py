"""report.yml and the results files it names, into the model's Report.

Every problem in the input is collected and raised at once as an
:class:`~reportgen.core.errors.InputError`; nothing is rendered from bad
input.  Warnings (problems that still allow a report) are returned beside
the model.  Results files of one label are pooled as rounds of one
environment (see :mod:`reportgen.read.results`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportgen.core.documents import (
    Document,
    KeyPath,
    parse_yaml,
    read_document,
)
from reportgen.core.errors import InputError, Problem, display
from reportgen.core.model import (
    ConclusionItem,
    Environment,
    InputFile,
    Report,
    Section,
    SectionMetric,
    Source,
    SystemRow,
    Text,
    Thresholds,
)
from reportgen.core.paths import Below
from reportgen.core.placeholders import hint
from reportgen.read import results, validate


@dataclass
class Loaded:
    """A report, the warnings found while loading it, and where it came from."""

    report: Report
    document: Document  # report.yml, so that later checks can point into it
    directory: Path  # the report directory
    warnings: list[Problem] = field(default_factory=list)


def load_report(report_dir: Path) -> Loaded:
    """Read one report directory into a :class:`Report`, or raise every problem."""
    report_file = report_dir / "report.yml"
    if not report_file.resolve().is_relative_to(report_dir.resolve()):
        raise InputError([Problem(display(report_file), 1, 1, "is a link to a file outside "
                                  "the report directory; refusing to read it")])
    doc = read_document(report_file, parse_yaml)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "expected a mapping with title, date, baseline, sections")])
    problems = validate.problems(doc, "report")
    if problems:
        raise InputError(problems)
    data: dict[str, Any] = doc.data
    envs, inputs, warnings = _load_results(report_dir, doc, problems)
    noise, noise_inputs = _load_noise(report_dir, doc, envs, problems, warnings)
    inputs.insert(0, InputFile("report.yml", report_file.read_bytes()))
    labels = [e.label for e in envs]
    if data["baseline"] not in labels and envs and not problems:  # not when a file was refused
        problems.append(doc.problem(("baseline",), f"baseline '{data['baseline']}' is not an "
                                    f"environment of the results ({', '.join(labels)})"
                                    f"{hint(data['baseline'], labels)}"))
    date = _date(doc, problems)
    if problems:
        raise InputError(problems)
    envs.sort(key=lambda e: e.label != data["baseline"])  # baseline first
    report = dataclasses.replace(_build_report(report_dir, doc, envs, inputs, date),
                                 noise=noise, inputs=tuple(inputs + noise_inputs))
    return Loaded(report, doc, report_dir, warnings)


def _date(doc: Document, problems: list[Problem]) -> dt.date:
    try:
        return dt.date.fromisoformat(str(doc.data["date"]))
    except ValueError:
        problems.append(doc.problem(("date",), f"date: expected YYYY-MM-DD, got "
                                               f"{doc.data['date']!r}"))
        return dt.date(1970, 1, 1)


def _load_results(report_dir: Path, doc: Document, problems: list[Problem]
                  ) -> tuple[list[Environment], list[InputFile], list[Problem]]:
    inputs: list[InputFile] = []
    warnings: list[Problem] = []
    by_label: dict[str, list[Read]] = {}
    for where, name in _result_names(doc, report_dir, problems):
        found = _results_file(report_dir, doc, where, name, "results file", problems, warnings)
        if found is None:
            continue
        relative, data, content = found
        if any(f.name == relative for f in inputs):
            problems.append(doc.problem(where, f"results file '{name}' is listed twice"))
            continue
        by_label.setdefault(data["environment"]["label"], []).append(Read(where, relative, data))
        inputs.append(InputFile(relative, content))
    envs = [_pooled(doc, files, problems) for files in by_label.values()]
    return envs, inputs, warnings


def _results_file(report_dir: Path, doc: Document, where: KeyPath, name: str, what: str,
                  problems: list[Problem], warnings: list[Problem]
                  ) -> tuple[str, dict[str, Any], bytes] | None:
    """One results file that report.yml names at ``where``: its name relative to
    the report dir, its checked data and its bytes; or None (with the problem
    recorded) when it is outside the report dir, missing or invalid."""
    root = report_dir.resolve()
    path = (report_dir / name).resolve()
    if not path.is_relative_to(root):
        problems.append(doc.problem(where, f"{what} '{name}' is outside the report directory"))
    elif not path.is_file():
        problems.append(doc.problem(where, f"{what} '{name}' not found"))
    else:
        try:
            data, content = results.read_results(path, warnings)
        except InputError as exc:
            problems.extend(exc.problems)
        else:
            return path.relative_to(root).as_posix(), data, content
    return None


def _load_noise(report_dir: Path, doc: Document, envs: list[Environment],
                problems: list[Problem], warnings: list[Problem]
                ) -> tuple[tuple[Environment, Environment] | None, list[InputFile]]:
    """report.yml's ``noise: {a, b}``: an A/A run, two results files of one
    environment measured against itself, kept apart from the compared ones."""
    names = doc.data.get("noise")
    if names is None:
        return None, []
    loaded = []
    for key in ("a", "b"):
        where: KeyPath = ("noise", key)
        used = next((e.file_name for e in envs
                     if (report_dir / e.file_name).resolve() == (report_dir / names[key]).resolve()),
                    None)
        if used is not None:
            problems.append(doc.problem(where, f"noise file '{names[key]}' is also a results "
                                               "file of the report; keep A/A runs out of "
                                               "'results'"))
            continue
        found = _results_file(report_dir, doc, where, names[key], "noise file", problems,
                              warnings)
        if found is not None:
            loaded.append((results.environment(found[1], (found[0],)), found[2]))
    if (report_dir / names["a"]).resolve() == (report_dir / names["b"]).resolve():
        problems.append(doc.problem(("noise", "b"), "noise: a and b name the same file; an A/A "
                                                    "run needs two"))
        return None, []
    if len(loaded) != 2:
        return None, []
    (a, a_bytes), (b, b_bytes) = loaded
    return (a, b), [InputFile(a.file_name, a_bytes), InputFile(b.file_name, b_bytes)]


@dataclass(frozen=True)
class Read:
    """A results file read for a report: where report.yml names it, its name, its data."""

    where: KeyPath
    name: str
    data: dict[str, Any]


def _pooled(doc: Document, files: list[Read], problems: list[Problem]) -> Environment:
    """The environment of one label: its files pooled as rounds of it.

    Files that were measured differently cannot be pooled: the problem is put at
    the later file's entry in report.yml and names both files.
    """
    env, clashes = results.pool_label([f.data for f in files], tuple(f.name for f in files))
    for clash in clashes:
        earlier, later = files[clash.earlier], files[clash.later]
        problems.append(doc.problem(later.where, clash.message(earlier.name, later.name, env.label)))
    return env


def _result_names(doc: Document, report_dir: Path, problems: list[Problem]
                  ) -> Iterator[tuple[KeyPath, str]]:
    if "results" in doc.data:
        for index, name in enumerate(doc.data["results"]):
            yield ("results", index), name
        return
    found = default_results(report_dir)
    if found is None:
        problems.append(doc.problem((), "results/ is a link to a directory outside the report "
                                        "directory; refusing to read it"))
        return
    names = [p.relative_to(report_dir).as_posix() for p in found]
    if not names:
        problems.append(doc.problem((), "no results files: put them in results/*.json or list "
                                        "them under 'results'"))
    for name in names:
        yield (), name


def default_results(report_dir: Path) -> list[Path] | None:
    """``results/*.json`` in name order; None if results/ leads out of the report
    directory (then it is not even listed)."""
    if not Below(report_dir).inside("results")[0]:
        return None
    return sorted((report_dir / "results").glob("*.json"))


def _text(doc: Document, path: KeyPath, default: str = "") -> Text:
    value: Any = doc.data
    for part in path:
        value = value.get(part, default) if isinstance(value, dict) else value[part]
    line, col = doc.position(path)
    if not isinstance(value, str):  # `1:30`, `0755`, `1.10`: text as written, not 90, 493, 1.1
        value = doc.sources.get(path, value)
    return Text(str(value), Source(doc.path, line, col))


def _build_report(report_dir: Path, doc: Document, envs: list[Environment],
                  inputs: list[InputFile], date: dt.date) -> Report:
    data = doc.data
    sections = []
    for i, raw in enumerate(data["sections"]):
        base = ("sections", i)
        sections.append(Section(
            title=raw["title"],
            metrics=tuple(_section_metric(m, envs) for m in raw["metrics"]),
            analysis=_text(doc, base + ("analysis",)),
            label=_text(doc, base + ("label",)) if "label" in raw else None,
        ))
    conclusions = data.get("conclusions", {})
    return Report(
        slug=report_dir.resolve().name,
        title=data["title"],
        date=date,
        author=data.get("author", ""),
        intro=_text(doc, ("intro",)),
        baseline=data["baseline"],
        environments=tuple(envs),
        system=tuple(SystemRow(str(row["key"]), _text(doc, ("system", i, "value")))
                     for i, row in enumerate(data.get("system", []))),
        sections=tuple(sections),
        conclusions=tuple(ConclusionItem(c["name"], tuple(c["metrics"]), c.get("note", ""))
                          for c in conclusions.get("items", [])),
        tier_headings=dict(conclusions.get("headings", {})),
        summary=_text(doc, ("summary",)),
        thresholds=Thresholds(**data.get("thresholds", {})),
        keywords=tuple(data.get("keywords", [])),
        follows=data.get("follows", ""),
        inputs=tuple(inputs),
    )


def _section_metric(raw: str | dict[str, str], envs: list[Environment]) -> SectionMetric:
    metric_id = raw if isinstance(raw, str) else raw["id"]
    if isinstance(raw, dict) and "short" in raw:
        return SectionMetric(metric_id, raw["short"])
    name = next((e.metrics[metric_id].name for e in envs if metric_id in e.metrics), metric_id)
    return SectionMetric(metric_id, name)
