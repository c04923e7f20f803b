"""`reportgen new`: a new report directory that builds at once.

The results files given on the command line are checked by the loader's own
results reader (messages are ``file:line:col: message``, naming the user's
files), copied to ``results/<label>.json`` (``results/<label>.<n>.json`` when
several files share a label: they are pooled as rounds of one environment, as
the loader does), and a report.yml is written from a
small template of our own: one section per metric family, conclusions, and
TODO text that shows the placeholder syntax.  Everything is written into a
staging directory beside the target, loaded and analysed there, and only then
renamed into place, so a failure leaves nothing behind.

This module is the command: it reads and checks the results files, chooses
the baseline and writes the directory.  What report.yml says is content.py's,
written with the YAML helpers of yaml_text.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.analyse.analysis import analyse
from reportgen.check import checks
from reportgen.core import errors
from reportgen.core.documents import parse_json
from reportgen.core.errors import InputError, Problem, ReportgenError
from reportgen.core.model import Environment
from reportgen.read import report_yml, results
from reportgen.scaffold.content import Family, families, report_yaml

SLUG = re.compile(r"[a-z0-9_-]+")


class ScaffoldError(ReportgenError):
    """A command-line problem of `reportgen new` (exit status 2, one line)."""


@dataclass(frozen=True)
class Given:
    """The results files of one environment named on the command line, checked
    by the loader; ``env.file_names`` are their names in the new report."""

    paths: tuple[Path, ...]
    env: Environment
    contents: tuple[bytes, ...]

    @property
    def role(self) -> str:
        virt = self.env.system.get("virtualization") or {}
        return str(virt.get("role", ""))


@dataclass(frozen=True)
class Created:
    report_dir: Path
    baseline: str
    families: tuple[Family, ...]
    warnings: tuple[Problem, ...]


# --- the command -------------------------------------------------------------

def new_report(target: Path, results: Sequence[Path], *, baseline: str | None = None,
               title: str | None = None, date: str | None = None) -> Created:
    """Create ``target`` (``reports/<slug>``) from ``results``; raise on any problem."""
    slug = target.name
    shown = errors.display(target)
    if not SLUG.fullmatch(slug):
        raise ScaffoldError(f"{shown}: the report name '{slug}' may only use lower-case "
                            "letters, digits, '-' and '_'")
    if target.exists() or target.is_symlink():
        raise ScaffoldError(f"{shown}: already exists; refusing to overwrite it (choose "
                            "another name or remove it first)")
    if len(results) < 2:
        raise ScaffoldError("reportgen new: give at least two results files with --results "
                            "(the baseline and one environment to compare with it)")
    day = _date(date)
    given = read_results(results)
    if len(given) < 2:
        raise ScaffoldError(f"reportgen new: every results file is labelled "
                            f"'{given[0].env.label}'; give files of at least two environments "
                            "(the baseline and one to compare with it)")
    chosen = choose_baseline(given, baseline)
    ordered = sorted(given, key=lambda g: g.env.label != chosen)  # baseline first, stable
    text = report_yaml(title or default_title(slug), day, chosen, [g.env for g in ordered])

    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{slug}.new-", dir=target.parent))
    try:
        (stage / "results").mkdir()
        for g in ordered:
            for name, content in zip(g.env.file_names, g.contents):
                (stage / name).write_bytes(content)
        (stage / "report.yml").write_text(text, encoding="utf-8")
        loaded = report_yml.load_report(stage)  # the proof that it builds: every check the build runs
        warnings = [_moved(w, errors.display(stage), shown)
                    for w in loaded.warnings + checks.check(loaded)]
        analyse(loaded.report)
        if target.exists() or target.is_symlink():
            raise ScaffoldError(f"{shown}: appeared while the report was being written; "
                                "refusing to overwrite it")
        os.rename(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage)
    envs = [g.env for g in ordered]
    return Created(target, chosen, tuple(families(envs)), tuple(warnings))


def _moved(problem: Problem, stage: str, target: str) -> Problem:
    """A problem found in the staging dir, as it will be where the report ends up."""
    if not problem.path.startswith(stage + os.sep):
        return problem
    return dataclasses.replace(problem, path=target + problem.path[len(stage):])


def _date(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ScaffoldError(f"reportgen new: --date: expected YYYY-MM-DD, got {value!r}") from None


def default_title(slug: str) -> str:
    words = re.sub(r"[-_]+", " ", slug).strip()
    return words[:1].upper() + words[1:] if words else slug


# --- reading and choosing ----------------------------------------------------

def read_results(paths: Sequence[Path]) -> list[Given]:
    """Check every results file with the loader and pool the files of each label;
    raise all problems at once."""
    problems: list[Problem] = []
    by_label: dict[str, list[tuple[Path, dict[str, Any], bytes]]] = {}
    seen: set[Path] = set()
    for path in paths:
        shown = errors.display(path)
        if not path.exists():
            problems.append(Problem(shown, 1, 1, "file not found"))
            continue
        if not path.is_file():
            problems.append(Problem(shown, 1, 1, "not a file"))
            continue
        if path.resolve() in seen:
            problems.append(Problem(shown, 1, 1, "given twice with --results"))
            continue
        seen.add(path.resolve())
        try:
            data, content = results.read_results(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        except OSError as exc:
            problems.append(Problem(shown, 1, 1, f"cannot read file: {exc}"))
            continue
        by_label.setdefault(data["environment"]["label"], []).append((path, data, content))
    given = [_pooled(files, problems) for files in by_label.values()]
    if problems:
        raise InputError(problems)
    return given


def _pooled(files: list[tuple[Path, dict[str, Any], bytes]], problems: list[Problem]) -> Given:
    """One label's files as one environment, named results/<label>[.<n>].json."""
    docs = [data for _, data, _ in files]
    label = docs[0]["environment"]["label"]
    names = ((f"results/{label}.json",) if len(files) == 1 else
             tuple(f"results/{label}.{n}.json" for n in range(1, len(files) + 1)))
    env, clashes = results.pool_label(docs, names)
    for clash in clashes:
        shown = errors.display(files[clash.later][0])
        doc = parse_json(files[clash.later][2].decode("utf-8"), shown)
        problems.append(doc.problem(("environment", "label"), clash.message(
            errors.display(files[clash.earlier][0]), shown, label)))
    return Given(tuple(p for p, _, _ in files), env, tuple(c for _, _, c in files))


def choose_baseline(given: Sequence[Given], wanted: str | None) -> str:
    """``wanted`` if it is a label; else the host's label; else the first file's."""
    labels = [g.env.label for g in given]
    if wanted is not None:
        if wanted not in labels:
            raise ScaffoldError(f"reportgen new: --baseline '{wanted}' is not the label of a "
                                f"results file ({', '.join(labels)})")
        return wanted
    hosts = [g.env.label for g in given if g.role == "host"]
    return hosts[0] if hosts else labels[0]
