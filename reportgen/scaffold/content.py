"""The text of the report.yml that `reportgen new` writes.

This module owns what the scaffold's report says: metrics grouped into
families, one section per family measured in every environment (its title,
short metric names, and analysis text whose every number is a placeholder),
the intro, the system rows, conclusions, the summary, and comments for the
metrics that only some environments measured, all with TODO text for the
author.  :func:`report_yaml` returns the whole file, written with the
helpers of yaml_text.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass

from reportgen.core.model import Environment
from reportgen.scaffold.yaml_text import block, comment, scalar, word


@dataclass(frozen=True)
class Family:
    """Metrics that share a section: ``memory.sysbench.*`` or a single id."""

    id: str
    metrics: tuple[str, ...]


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
