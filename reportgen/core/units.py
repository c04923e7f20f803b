"""Units that reportgen can convert: the families of docs/formats.md.

Two environments may give one metric in different units of one family (a
probe that writes ``ms``, an import that writes ``s``); the analysis converts
every environment's samples into the baseline's unit before comparing.  Units
of different families, or a unit outside every family that differs from the
baseline's, cannot be converted: the checks stage refuses or flags those.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reportgen.core.model import Report


@dataclass(frozen=True)
class Family:
    name: str
    units: dict[str, float]  # unit -> how many of the family's base unit it is


TIME = Family("time", {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9})
THROUGHPUT = Family("throughput", {
    "B/s": 1.0, "KB/s": 1e3, "kB/s": 1e3, "KiB/s": 2.0 ** 10, "MB/s": 1e6, "MiB/s": 2.0 ** 20,
    "GB/s": 1e9, "GiB/s": 2.0 ** 30,
})
FAMILIES = (TIME, THROUGHPUT)


def family(unit: str) -> Family | None:
    """The family ``unit`` belongs to, or None for a unit reportgen does not know."""
    return next((f for f in FAMILIES if unit in f.units), None)


def factor(unit: str, into: str) -> float | None:
    """What a value in ``unit`` is multiplied by to be in ``into``; None when
    the two are not units of one family (equal units always give 1)."""
    if unit == into:
        return 1.0
    found = family(unit)
    if found is None or into not in found.units:
        return None
    return found.units[unit] / found.units[into]


def harmonise(report: Report) -> Report:
    """``report`` with every metric given in the baseline's unit wherever a
    unit of the same family can be converted; other metrics stay as they are."""
    base = report.environment(report.baseline)
    envs = []
    for env in report.environments:
        metrics = dict(env.metrics)
        for metric_id, metric in env.metrics.items():
            ref = base.metrics.get(metric_id)
            scale = factor(metric.unit, ref.unit) if ref is not None else None
            if ref is not None and scale is not None and metric.unit != ref.unit:
                metrics[metric_id] = dataclasses.replace(
                    metric, unit=ref.unit, samples=tuple(x * scale for x in metric.samples))
        envs.append(dataclasses.replace(env, metrics=metrics))
    return dataclasses.replace(report, environments=tuple(envs))
