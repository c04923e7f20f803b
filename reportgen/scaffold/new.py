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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reportgen.analyse.analysis import analyse
from reportgen.check import checks
from reportgen.core import errors
from reportgen.core.documents import parse_json
from reportgen.core.errors import InputError, Problem, ReportgenError
from reportgen.core.model import Environment
from reportgen.read import report_yml, results

SLUG = re.compile(r"[a-z0-9_-]+")
WIDTH = 78  # wrap the generated Markdown text at this many columns


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
class Family:
    """Metrics that share a section: ``memory.sysbench.*`` or a single id."""

    id: str
    metrics: tuple[str, ...]


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


def family_of(metric_id: str) -> str:
    """``memory.sysbench.read.t1`` -> ``memory.sysbench``; ``disk.write_fsync`` stays."""
    return ".".join(metric_id.split(".")[:2])


def families(envs: Sequence[Environment]) -> list[Family]:
    """Metric families measured in every environment, in the baseline's order."""
    order: list[str] = []
    for env in envs:
        order.extend(m for m in env.metrics if m not in order)
    common = [m for m in order if all(m in e.metrics for e in envs)]
    grouped: dict[str, list[str]] = {}
    for metric_id in common:
        grouped.setdefault(family_of(metric_id), []).append(metric_id)
    return [Family(f, tuple(ids)) for f, ids in grouped.items()]


def short_name(metric_id: str, family: str) -> str:
    """``memory.sysbench.write.t1`` in ``memory.sysbench`` -> ``write t1``."""
    rest = metric_id[len(family):].lstrip(".")
    return rest.replace(".", " ").replace("_", " ") if rest else metric_id.rsplit(".", 1)[-1]


# --- writing report.yml --------------------------------------------------------

def scalar(value: str) -> str:
    """``value`` as a double-quoted YAML scalar that reads back unchanged."""
    out = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=1 << 30)
    out = out.removesuffix("\n...\n").rstrip("\n")
    assert yaml.safe_load(out) == value and "\n" not in out
    return out


def word(value: str) -> str:
    """An id or label: plain when YAML reads it back as the same string, else quoted."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", value) and yaml.safe_load(value) == value:
        return value
    return scalar(value)


def comment(value: str) -> str:
    """Untrusted text for a YAML comment: one line, quoted, nothing can break out."""
    return scalar(value)


def block(text: str, indent: int) -> str:
    """Markdown of our own as the lines of a literal block scalar (``|``)."""
    pad = " " * indent
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        if lines:
            lines.append("")
        if paragraph.startswith("- "):  # a list: one wrapped item per line
            for item in paragraph.split("\n"):
                wrapped = _wrap(item, WIDTH - indent - 2)
                lines.extend(pad + ("" if i == 0 else "  ") + line
                             for i, line in enumerate(wrapped))
        else:
            lines.extend(pad + line for line in _wrap(paragraph, WIDTH - indent))
    return "\n".join(lines)


def _wrap(paragraph: str, width: int) -> list[str]:
    """Wrap without breaking inside a ``{{ placeholder }}``."""
    glued = re.sub(r"\{\{ ([^}]*) \}\}", lambda m: "{{\0" + m.group(1) + "\0}}", paragraph)
    return [line.replace("\0", " ") for line in textwrap.wrap(
        glued, width, break_long_words=False, break_on_hyphens=False)]


def report_yaml(title: str, date: dt.date, baseline: str, envs: Sequence[Environment]) -> str:
    """The scaffold's report.yml; ``envs`` starts with the baseline."""
    others = [e for e in envs if e.label != baseline]
    found = families(envs)
    out: list[str] = [
        "# A new report, written by `reportgen new`. Replace every TODO with your",
        "# own words. Numbers come from the results through placeholders such as",
        "# {{ <metric>.<env> }} or {{ <metric>.<env>.ratio }}: see docs/formats.md.",
        "# Check it with `reportgen check`, look at it with `reportgen serve`.",
        f"title: {scalar(title)}",
        f"date: {date.isoformat()}",
        "# author: \"Your Name\"",
        f"baseline: {word(baseline)}",
        "results:" + ("  # files of one label are pooled as rounds of one environment"
                      if any(len(e.file_names) > 1 for e in envs) else ""),
        *(f"  - {name}" for e in envs for name in e.file_names),
        "",
        "intro: |",
        block(_intro(envs, baseline), 2),
        "",
        "# The header rows at the top of the report; values may use placeholders.",
        *_system(envs),
        "",
        "# One section per family of metrics. A section's badge is computed from its",
        "# metrics; add `label:` to write your own (placeholders allowed).",
        "sections:",
    ]
    for family in found:
        out.extend(_section(family, envs, baseline, others))
    out.extend(_missing(envs))
    out += [
        "",
        "# Each item is placed in its tier (negligible, moderate, severe) by the data.",
        "conclusions:",
        "  # headings:",
        "  #   negligible: \"Close to the baseline\"",
        "  #   moderate: \"A noticeable cost\"",
        "  #   severe: \"A heavy cost\"",
        "  items:",
    ]
    for family in found:
        out += [
            f"    - name: {scalar(_title(family, envs))}",
            f"      metrics: [{', '.join(word(m) for m in family.metrics)}]",
            "      note: \"TODO: a few words on the cause\"",
        ]
    out += [
        "",
        "summary: |",
        block("TODO: the conclusion in a few sentences: which workloads suit the "
              f"environment{'s' if len(others) > 1 else ''} measured against {baseline}, "
              "and which ones pay a price.", 2),
        "",
    ]
    return "\n".join(out)


def _intro(envs: Sequence[Environment], baseline: str) -> str:
    text = (f"TODO: what you compared and why, in a paragraph or two. The baseline is "
            f"{baseline}.")
    described = [f"- {e.label}: {{{{ system.{e.label}.description }}}}"
                 for e in envs if e.description]
    if described:
        text += (" The results files describe the environments like this (keep, edit or "
                 "drop the list):\n\n" + "\n".join(described))
    return text


def _system(envs: Sequence[Environment]) -> list[str]:
    rows: list[tuple[str, str]] = []
    for env in envs:
        has = env.system.get
        ref = f"system.{env.label}"
        if has("cpu_model"):
            cpu = f"{{{{ {ref}.cpu_model }}}}"
            if has("cpu_cores") and has("cpu_threads"):
                cpu += f" ({{{{ {ref}.cpu_cores }}}}C/{{{{ {ref}.cpu_threads }}}}T)"
            rows.append((f"CPU ({env.label})", cpu))
        parts = [f"{{{{ {ref}.{k} }}}}" for k in ("os", "os_release") if has(k)]
        if parts:
            arch = f" ({{{{ {ref}.arch }}}})" if has("arch") else ""
            rows.append((f"OS ({env.label})", " ".join(parts) + arch))
    if not rows:
        return ["system: []  # the results files give no CPU or OS facts"]
    lines = ["system:"]
    for key, value in rows:
        lines += [f"  - key: {scalar(key)}", f"    value: {scalar(value)}"]
    return lines


def _title(family: Family, envs: Sequence[Environment]) -> str:
    names = [envs[0].metrics[m].name for m in family.metrics]
    if len(names) == 1:
        return names[0] or family.id
    common = os.path.commonprefix(names)
    if not common.endswith(" "):
        common = common[:common.rfind(" ") + 1]
    common = common.strip(" ,;:-")
    return common if len(common) >= 3 else family.id


def _section(family: Family, envs: Sequence[Environment], baseline: str,
             others: Sequence[Environment]) -> list[str]:
    base = envs[0]
    lines = ["", f"  - title: {scalar(_title(family, envs))}"]
    for metric_id in family.metrics:
        for env in envs:
            metric = env.metrics[metric_id]
            if not metric.usable:
                why = f" ({comment(metric.error)})" if metric.error else ""
                lines.append(f"    # {metric_id} has no figure in {env.label}: status "
                             f"{comment(metric.status)}{why}")
    if len(family.metrics) == 1:
        lines.append(f"    metrics: [{word(family.metrics[0])}]")
    else:
        lines.append("    metrics:")
        lines += [f"      - {{id: {word(m)}, short: {scalar(short_name(m, family.id))}}}"
                  for m in family.metrics]
    todo = "TODO: explain this result: what the workload does and why it costs what it costs."
    sentences = [todo]
    for env in others:
        ok = [m for m in family.metrics
              if base.metrics[m].usable and env.metrics[m].usable]
        if not ok:
            sentences.append(f"Nothing to compare in {env.label}: the section shows n/a, "
                             "and placeholders can only name figures that were measured.")
        elif len(family.metrics) == 1:
            m = ok[0]
            sentences.append(f"Measured: {{{{ {m}.{baseline} }}}} on {baseline}, "
                             f"{{{{ {m}.{env.label} }}}} on {env.label}; the slowdown is "
                             f"{{{{ {m}.{env.label}.ratio }}}} ({{{{ {m}.{env.label}.change }}}}, "
                             f"badge {{{{ {m}.{env.label}.label }}}}).")
        else:
            parts = [f"{{{{ {m}.{env.label}.label }}}} for {short_name(m, family.id)}"
                     for m in ok]
            sentences.append(f"In {env.label}: {', '.join(parts)}.")
    lines += ["    analysis: |", block(" ".join(sentences), 6)]
    return lines


def _missing(envs: Sequence[Environment]) -> list[str]:
    """Comments for metrics that only some environments measured."""
    every = [m for e in envs for m in e.metrics]
    lines = []
    for metric_id in dict.fromkeys(every):
        lacking = [e.label for e in envs if metric_id not in e.metrics]
        if lacking:
            lines.append(f"  # not in a section: {metric_id} is missing from "
                         f"{', '.join(lacking)}")
    return ([""] + lines) if lines else []
