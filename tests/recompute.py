"""Figures worked out again from a report's input files, without reportgen.

The golden-file invariants (tests/test_golden_invariants.py) and the
analysis.json tests hold reportgen's output against these. Each follows the
definition in docs/formats.md with nothing but the standard library and
PyYAML: medians by ``statistics.median``, the slowdown and the change from
those medians, round counts from ``sample_rounds``, the exact two-sided
Mann-Whitney p-value by counting every split of the round medians, and the
Benjamini-Hochberg adjustment written out by hand.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

# docs/formats.md, "report.yml": the defaults of `thresholds`.
DEFAULT_THRESHOLDS = {"moderate": 1.15, "severe": 10.0, "noise": 0.03, "multiplier": 3.0}
ALPHA = 0.05  # the level a difference needs (comparison rules, rule 3)
MIN_ROUNDS = 5  # fewer rounds on a side: inconclusive (rule 1)


@dataclass(frozen=True)
class Measured:
    """One metric of one environment, its files pooled."""

    name: str
    unit: str
    better: str
    samples: tuple[float, ...]
    # (index of the results file, round in that file) of each sample: rounds
    # of different files are different rounds.
    rounds: tuple[tuple[int, int], ...]

    @property
    def median(self) -> float:
        return float(statistics.median(self.samples))

    @property
    def round_count(self) -> int:
        return len(set(self.rounds))

    def round_medians(self) -> list[float]:
        by_round: dict[tuple[int, int], list[float]] = {}
        for value, key in zip(self.samples, self.rounds):
            by_round.setdefault(key, []).append(value)
        return [float(statistics.median(values)) for values in by_round.values()]


@dataclass(frozen=True)
class Inputs:
    """A report directory as read by the tests: report.yml and its results."""

    spec: dict[str, Any]
    environments: list[str]  # labels in the order of the results files
    measured: dict[str, dict[str, Measured]]  # label -> metric id -> metric (ok only)

    @property
    def baseline(self) -> str:
        return str(self.spec["baseline"])

    @property
    def compared(self) -> list[str]:
        return [env for env in self.environments if env != self.baseline]

    @property
    def thresholds(self) -> dict[str, float]:
        return {**DEFAULT_THRESHOLDS, **self.spec.get("thresholds", {})}

    def sections(self) -> list[dict[str, Any]]:
        return list(self.spec["sections"])

    def section_metrics(self, section: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(id, short name) of each metric of a section; the short name
        defaults to the metric's name."""
        out = []
        for entry in section["metrics"]:
            metric_id = entry if isinstance(entry, str) else entry["id"]
            short = entry.get("short") if isinstance(entry, dict) else None
            out.append((metric_id, short or self.measured[self.baseline][metric_id].name))
        return out

    def pair(self, metric_id: str, env: str) -> tuple[Measured, Measured]:
        base, other = self.measured[self.baseline][metric_id], self.measured[env][metric_id]
        assert base.unit == other.unit, (
            f"{metric_id}: {base.unit} against {other.unit}; these checks do not convert units")
        return base, other

    def slowdown(self, metric_id: str, env: str) -> float:
        """s = env / baseline when lower is better, baseline / env when higher."""
        base, other = self.pair(metric_id, env)
        if base.better == "lower":
            return other.median / base.median
        return base.median / other.median

    def change(self, metric_id: str, env: str) -> float:
        """env / baseline - 1: time +8%, throughput -36%."""
        base, other = self.pair(metric_id, env)
        return other.median / base.median - 1


def read_inputs(report_dir: Path) -> Inputs:
    spec = yaml.safe_load((report_dir / "report.yml").read_text(encoding="utf-8"))
    names = spec.get("results") or sorted(
        str(p.relative_to(report_dir)) for p in (report_dir / "results").glob("*.json"))
    environments: list[str] = []
    parts: dict[str, dict[str, list[tuple[Any, int, list[float], list[int]]]]] = {}
    for index, name in enumerate(names):
        doc = json.loads((report_dir / name).read_text(encoding="utf-8"))
        label = doc["environment"]["label"]
        if label not in environments:
            environments.append(label)
        for metric in doc["metrics"]:
            if metric["status"] != "ok" or not metric["samples"]:
                continue
            rounds = metric.get("sample_rounds") or [1] * len(metric["samples"])
            parts.setdefault(label, {}).setdefault(metric["id"], []).append(
                (metric, index, metric["samples"], rounds))
    measured: dict[str, dict[str, Measured]] = {}
    for label, metrics in parts.items():
        for metric_id, pieces in metrics.items():
            first = pieces[0][0]
            measured.setdefault(label, {})[metric_id] = Measured(
                first["name"], first["unit"], first["better"],
                tuple(float(v) for _, _, samples, _ in pieces for v in samples),
                tuple((index, r) for _, index, _, rounds in pieces for r in rounds))
    return Inputs(spec, environments, measured)


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    """Two-sided Mann-Whitney U test, as docs/formats.md gives it: the exact
    distribution when a side has at most 8 values and no two values are
    equal, otherwise the normal approximation with tie and continuity
    corrections."""
    u = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)
    mean = len(a) * len(b) / 2
    pooled = a + b
    if min(len(a), len(b)) <= 8 and len(set(pooled)) == len(pooled):
        # The share of all ways to split the values into groups of len(a) and
        # len(b) whose U lies at least as far from its mean as the one seen.
        splits = list(combinations(range(len(pooled)), len(a)))
        extreme = 0
        for chosen in splits:
            first = [pooled[i] for i in chosen]
            second = [pooled[i] for i in range(len(pooled)) if i not in chosen]
            split_u = sum(x > y for x in first for y in second)
            extreme += abs(split_u - mean) >= abs(u - mean) - 1e-9
        return extreme / len(splits)
    n = len(pooled)
    ties = sum(t ** 3 - t for t in Counter(pooled).values())
    sigma = math.sqrt(len(a) * len(b) / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = max(abs(u - mean) - 0.5, 0.0) / sigma
    return min(1.0, math.erfc(z / math.sqrt(2)))


def benjamini_hochberg(p: Mapping[str, float]) -> dict[str, float]:
    """q_(i) = min over j >= i of p_(j) * m / j, p sorted ascending, capped at 1."""
    order = sorted(p, key=lambda key: p[key])
    m = len(order)
    adjusted: dict[str, float] = {}
    running = 1.0
    for rank in range(m, 0, -1):
        key = order[rank - 1]
        running = min(running, p[key] * m / rank)
        adjusted[key] = running
    return adjusted


def geometric_mean(values: Iterable[float]) -> float:
    logs = [math.log(v) for v in values]
    return math.exp(sum(logs) / len(logs))


def shown(text: str) -> float:
    """A figure as printed (``5,730``, ``0.943``) as a number."""
    return float(text.replace(",", ""))


def rounds_to(text: str, value: float, digits: int = 3) -> bool:
    """Whether ``text``, a figure printed with ``digits`` significant digits
    (docs/formats.md, "How numbers are written"), can be ``value`` rounded:
    they differ by at most half a unit in the last printed digit."""
    printed = shown(text)
    if printed == 0:
        return abs(value) < 10.0 ** -digits
    step = 10.0 ** (math.floor(math.log10(abs(printed))) - digits + 1)
    return abs(printed - value) <= step / 2 * (1 + 1e-9)


def rounds_to_decimals(text: str, value: float) -> bool:
    """Whether ``text`` is ``value`` rounded to as many decimals as it prints."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(shown(text) - value) <= 10.0 ** -decimals / 2 * (1 + 1e-9)
