"""Which metrics of two environments may be compared at all.

Two environments are compared only where they were measured alike: the same
tool, parameters, probe version, profile, direction and unit family.  These
rules are used by the analysis (a "not comparable" verdict with its reason)
and by the check stage (a warning at the metric in report.yml).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reportgen.core import units
from reportgen.core.model import Environment

# Parameters the probes record only to describe the workload (which code it
# runs, how it is timed): they follow from the tool and the probe version,
# which are compared, so they are not compared again.  Every other parameter
# is measurement setup and must be equal.
DESCRIPTIVE_PARAMS = frozenset({"kernel", "call", "child", "timing"})


def incomparable(base: Environment, env: Environment, metric_id: str) -> str:
    """Why ``env``'s metric cannot be compared with the baseline's, naming
    both results files; "" when both were measured alike."""
    a, b = base.metrics[metric_id], env.metrics[metric_id]
    found = [f"{what} {_shown(x)} vs {_shown(y)}" for what, x, y in (
        ("probe version", base.probe_version, env.probe_version),
        ("profile", base.profile, env.profile),
    ) if x != y]
    if tool_name(a.tool) != tool_name(b.tool):
        found.append(f"tool {_shown(a.tool)} vs {_shown(b.tool)}")
    for key in sorted((set(a.params) | set(b.params)) - DESCRIPTIVE_PARAMS):
        if a.params.get(key) != b.params.get(key):
            found.append(f"{key} {_shown(a.params.get(key))} vs {_shown(b.params.get(key))}")
    if a.better != b.better:
        found.append(f"better {a.better} vs {b.better}")
    if units.factor(b.unit, a.unit) is None:
        found.append(f"unit {_shown(a.unit)} vs {_shown(b.unit)}")
    if not found:
        return ""
    return f"{', '.join(found)} ({files_of(base)} vs {files_of(env)})"


def tool_name(tool: str) -> str:
    """The tool without its version: ``sysbench 1.0.20`` and ``dd (GNU coreutils
    9.1)`` are ``sysbench`` and ``dd``; a different version is no different tool."""
    words = re.sub(r"\([^)]*\)", " ", tool).split()
    return " ".join(w for w in words if not re.match(r"v?\d", w))


def oversubscribed(env: Environment) -> Iterator[tuple[str, int, int]]:
    """(metric id, threads, vCPUs) of each metric run on more threads than
    the environment has CPU threads."""
    cpus = env.system.get("cpu_threads")
    if not isinstance(cpus, int) or isinstance(cpus, bool):
        return
    for metric_id, metric in env.metrics.items():
        threads = metric.params.get("threads")
        if isinstance(threads, int) and not isinstance(threads, bool) and threads > cpus:
            yield metric_id, threads, cpus


def _shown(value: object) -> str:
    return "none" if value is None or value == "" else str(value)


def files_of(env: Environment) -> str:
    """The results files an environment was read from, as messages name them."""
    return " + ".join(env.file_names or (env.file_name,))
