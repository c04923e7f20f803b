"""Whether the environments were measured alike enough to be compared.

This module owns the checks across the results files of one report: a unit
that differs from the baseline's must convert into it (else an error), a
shown metric that an environment measured differently (tool, parameters,
units; see analyse.comparability) is a warning, and so is a metric that ran
more threads than the machine had CPU threads.  Each problem points at the
metric in the results file it comes from.
"""

from __future__ import annotations

from reportgen.analyse.comparability import files_of, incomparable, oversubscribed
from reportgen.core import units
from reportgen.core.documents import Document, KeyPath, parse_json
from reportgen.core.errors import Problem, display
from reportgen.core.model import Environment, Report
from reportgen.read.report_yml import Loaded


def check_units(loaded: Loaded) -> list[Problem]:
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


def check_comparable(doc: Document, report: Report) -> list[Problem]:
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


def check_threads(loaded: Loaded) -> list[Problem]:
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
