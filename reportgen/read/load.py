"""Load stage: site.yml, report.yml and results JSON into the model.

Every problem in the input is collected and raised at once as an
:class:`~reportgen.core.errors.InputError`; nothing is rendered from bad input.
Warnings (problems that still allow a report) are returned beside the model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportgen.read import results
from reportgen.read import validate
from reportgen.core.documents import Document, KeyPath, describe, parse_json, parse_yaml
from reportgen.core.errors import CONTROL, InputError, Problem
from reportgen.core.model import (
    ConclusionItem,
    Environment,
    InputFile,
    Metric,
    Report,
    Round,
    Section,
    SectionMetric,
    Site,
    Source,
    SystemRow,
    Text,
    Thresholds,
)
from reportgen.core.placeholders import hint

FORMATS = ("html", "pdf", "txt", "md")


def display(path: Path) -> str:
    """How a path is shown in messages: relative to the working dir when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


@dataclass
class Loaded:
    """A report, the warnings found while loading it, and where it came from."""

    report: Report
    document: Document  # report.yml, so that later checks can point into it
    directory: Path  # the report directory
    warnings: list[Problem] = field(default_factory=list)


# --- site.yml ---------------------------------------------------------------

def load_site(site_file: Path, output: Path | None = None,
              formats: tuple[str, ...] | None = None, archive: Path | None = None, *,
              validated: str = "") -> Site:
    """Read site.yml; ``output``, ``formats`` and ``archive`` override what it says.

    ``validated`` is the ``source_key`` of a site.yml already found valid; when
    the file still has that text the schema check (and its import) is skipped.
    """
    doc = _read(site_file, parse_yaml)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "expected a mapping of site settings")])
    source_key = hashlib.sha256("\n".join(doc.lines).encode()).hexdigest()
    if source_key != validated:
        found = validate.problems(doc, "site")
        if found:
            raise InputError(found)
    data, root = doc.data, site_file.resolve().parent
    out = (output if output is not None else root / data.get("output", "output")).resolve()
    archive = (archive.resolve() if archive is not None
               else (root / data["archive"]).resolve() if "archive" in data
               else out / "archive")
    patterns = data["reports"] if isinstance(data["reports"], list) else [data["reports"]]
    report_dirs: list[Path] = []
    problems: list[Problem] = []
    for index, pattern in enumerate(patterns):
        where: KeyPath = ("reports", index) if isinstance(data["reports"], list) else ("reports",)
        matches = sorted(Path(p) for p in glob.glob(str(root / pattern)) if Path(p).is_dir())
        if not matches:
            problems.append(doc.problem(where, f"no report directory matches '{pattern}'"))
        for match in matches:
            why = _not_a_report_dir(match, root)
            if match.resolve() in (out, archive):
                continue  # `reports/*` matching an archive or output kept among the reports
            if why:
                problems.append(doc.problem(where, f"'{display(match)}' {why}"))
            elif match not in report_dirs:
                report_dirs.append(match)
    slugs = [d.name for d in report_dirs]
    for slug in sorted({s for s in slugs if slugs.count(s) > 1}):
        problems.append(doc.problem(("reports",), f"two report directories are named '{slug}'"))
    if problems:
        raise InputError(problems)
    return Site(
        title=data.get("title", "Benchmark reports"),
        base_url=data.get("base_url", ""),
        report_dirs=tuple(report_dirs),
        formats=formats if formats is not None else tuple(data.get("formats", FORMATS)),
        output=out,
        archive=archive,
        root=root,
        source_key=source_key,
        paper=data.get("paper", "A4"),
    )


def _not_a_report_dir(match: Path, root: Path) -> str:
    """Why a directory the reports pattern matched cannot be read as a report."""
    if not match.resolve().is_relative_to(root):
        how = "is a link to a directory" if match.is_symlink() else "is a directory"
        return f"{how} outside the project; refusing to read it"
    if CONTROL.search(match.name):
        return "has a name with control characters or bytes that are not UTF-8"
    return ""


def output_dir(site_file: Path, output: Path | None) -> Path:
    """Where the build output goes, read cheaply (before validation)."""
    if output is not None:
        return output.resolve()
    try:
        data = parse_yaml(site_file.read_text(encoding="utf-8"), str(site_file)).data
    except (OSError, UnicodeDecodeError, InputError):
        data = None
    name = data.get("output") if isinstance(data, dict) else None
    return (site_file.resolve().parent / (name if isinstance(name, str) else "output")).resolve()


# --- report.yml and its results ----------------------------------------------

def load_report(report_dir: Path) -> Loaded:
    """Read one report directory into a :class:`Report`, or raise every problem."""
    report_file = report_dir / "report.yml"
    if not report_file.resolve().is_relative_to(report_dir.resolve()):
        raise InputError([Problem(display(report_file), 1, 1, "is a link to a file outside "
                                  "the report directory; refusing to read it")])
    doc = _read(report_file, parse_yaml)
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


def _read(path: Path, parse: Any) -> Document:
    shown = display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(shown, 1, 1, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(shown, 1, 1, f"cannot read file: {exc}")]) from None
    doc: Document = parse(text, shown)
    return doc


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
            data, content = read_results(path, warnings)
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
            loaded.append((environment(found[1], (found[0],)), found[2]))
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
    docs = [f.data for f in files]
    clashes = list(unpoolable(docs))
    for earlier, later, why in clashes:
        problems.append(doc.problem(files[later].where, unpoolable_message(
            files[earlier].name, files[later].name, files[later].data, why)))
    if clashes:
        return environment(docs[0], (files[0].name,))
    return pooled_environment(docs, tuple(f.name for f in files))


def unpoolable(docs: list[dict[str, Any]]) -> Iterator[tuple[int, int, str]]:
    """(earlier, later, why) for every document that cannot be pooled with one
    before it (the first such one)."""
    for later in range(1, len(docs)):
        for earlier in range(later):
            try:
                results.pool([docs[earlier], docs[later]])
            except results.PoolError as exc:
                yield earlier, later, str(exc)
                break


def unpoolable_message(earlier: str, later: str, data: dict[str, Any], why: str) -> str:
    return (f"results files '{earlier}' and '{later}' are both labelled "
            f"'{data['environment']['label']}' but cannot be pooled: {why}")


def pooled_environment(docs: list[dict[str, Any]], names: tuple[str, ...]) -> Environment:
    """One environment from the checked documents of one label, one per name."""
    return environment(docs[0] if len(docs) == 1 else results.pool(docs), names)


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
    if not (report_dir / "results").resolve().is_relative_to(report_dir.resolve()):
        return None
    return sorted((report_dir / "results").glob("*.json"))


def load_results(path: Path, name: str, warnings: list[Problem] | None = None
                 ) -> tuple[Environment, bytes]:
    """One results file as an environment, and its bytes; ``name`` is how the
    report refers to it. Raises InputError with every problem in the file."""
    data, content = read_results(path, warnings)
    return environment(data, (name,)), content


def read_results(path: Path, warnings: list[Problem] | None = None
                 ) -> tuple[dict[str, Any], bytes]:
    """One checked results file in the current format (see :func:`results.upgrade`),
    and its bytes. Raises InputError with every problem in the file. Given
    ``warnings``, adds one for each metric whose samples are unstable."""
    content = path.read_bytes()
    shown = display(path)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(shown, 1, 1, f"cannot read file: {exc}")]) from None
    doc = parse_json(text, shown)
    data = doc.data
    if not isinstance(data, dict):
        raise InputError([doc.problem((), "expected a JSON object")])
    version = data.get("format")
    if version not in results.FORMATS:
        what = f"unknown results format {version!r}" if "format" in data else "missing 'format'"
        known = "' and '".join(results.FORMATS)
        raise InputError([doc.problem(("format",), f"{what}: this reportgen reads '{known}'")])
    problems = validate.problems(doc, "results")
    if not problems:
        problems = _round_problems(doc)
    seen: set[str] = set()
    for index, raw in enumerate(data.get("metrics", [])):
        if not isinstance(raw, dict) or "id" not in raw:
            continue  # the schema has said what is wrong
        where: KeyPath = ("metrics", index)
        if raw["id"] in seen:
            problems.append(doc.problem(where + ("id",), f"metric '{raw['id']}' appears twice"))
        if len(raw.get("samples", [])) > results.MAX_SAMPLES:
            problems.append(doc.problem(where + ("samples",), results.too_many(
                describe(where + ("samples",)), len(raw["samples"]))))
        if raw.get("status") == "ok" and not raw.get("samples"):
            problems.append(doc.problem(where + ("samples",),
                                        f"{describe(where)}: status is 'ok' but there are no "
                                        "samples"))
        seen.add(raw["id"])
    if problems:
        raise InputError(problems)
    current = results.upgrade(data)
    if warnings is not None:
        warnings.extend(_unstable(doc, environment(current, (display(path),))))
    return current, content


def _unstable(doc: Document, env: Environment) -> list[Problem]:
    """A warning at each metric whose samples are unstable (compare.stability);
    --strict leaves it a warning: it describes the machine, not a mistake."""
    from reportgen.analyse import compare  # numpy: only when a report is loaded

    found = []
    for index, metric in enumerate(env.metrics.values()):
        steady = compare.stability(metric.samples)
        if steady.unstable:
            found.append(doc.problem(("metrics", index, "samples"),
                                     f"metric '{metric.id}' in '{env.label}' has unstable "
                                     f"samples ({steady.describe()}); its verdicts may be "
                                     "inconclusive", warning=True, strict=False))
    return found


def environment(data: dict[str, Any], names: tuple[str, ...]) -> Environment:
    """A validated current-format results document as the model's environment."""
    env = data["environment"]
    return Environment(
        label=env["label"], description=env.get("description", ""),
        collected_at=data.get("collected_at", ""), system=data.get("system", {}),
        metrics={raw["id"]: _metric(raw) for raw in data["metrics"]}, file_name=names[0],
        probe_version=data.get("probe_version", ""), profile=data.get("profile", ""),
        rounds=tuple(Round(r["round"], r["started_at"]) for r in data["rounds"]),
        file_names=names,
    )


def _round_problems(doc: Document) -> list[Problem]:
    """Version 2: every sample has a round, and every round is declared once."""
    data = doc.data
    if data["format"] != results.FORMAT:
        return []
    declared = [r["round"] for r in data["rounds"]]
    problems = [doc.problem(("rounds", i, "round"), f"round {n} is declared twice")
                for i, n in enumerate(declared) if n in declared[:i]]
    for index, raw in enumerate(data["metrics"]):
        where: KeyPath = ("metrics", index, "sample_rounds")
        if len(raw["sample_rounds"]) != len(raw["samples"]):
            problems.append(doc.problem(where, f"{describe(where)}: {len(raw['sample_rounds'])} "
                                               f"rounds for {len(raw['samples'])} samples"))
        unknown = sorted(set(raw["sample_rounds"]) - set(declared))
        if unknown:
            problems.append(doc.problem(where, f"{describe(where)}: round {unknown[0]} is not "
                                               "declared under 'rounds'"))
    return problems


def _metric(raw: dict[str, Any]) -> Metric:
    return Metric(id=raw["id"], name=raw.get("name", raw["id"]), unit=raw.get("unit", ""),
                  better=raw.get("better", "lower"),
                  samples=tuple(float(x) for x in raw.get("samples", [])),
                  status=raw.get("status", "ok"), tool=raw.get("tool", ""),
                  params=raw.get("params", {}), error=raw.get("error", ""),
                  rounds=tuple(raw.get("sample_rounds", [])))


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
        inputs=tuple(inputs),
    )


def _section_metric(raw: str | dict[str, str], envs: list[Environment]) -> SectionMetric:
    metric_id = raw if isinstance(raw, str) else raw["id"]
    if isinstance(raw, dict) and "short" in raw:
        return SectionMetric(metric_id, raw["short"])
    name = next((e.metrics[metric_id].name for e in envs if metric_id in e.metrics), metric_id)
    return SectionMetric(metric_id, name)
