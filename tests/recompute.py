"""Figures worked out again from a report's input files, without reportgen.

The golden-file invariants (tests/test_golden_invariants.py) and the
analysis.json tests hold reportgen's output against these. Each follows the
definition in docs/formats.md with nothing but the standard library and
PyYAML: medians by ``statistics.median``, the slowdown and the change from
those medians, round counts from ``sample_rounds``, Welch's t-test on the
logarithms of the round medians (with the machine's drift taken out when the
two sides were measured one after the other; the t tail and the fit are
tests/independent.py's, plain Python too), and the Benjamini-Hochberg
adjustment written out by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests import independent

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
        return list(self.medians_by_round().values())

    def medians_by_round(self) -> dict[tuple[int, int], float]:
        """Each round's median, by (file index, round), in the order of the samples."""
        by_round: dict[tuple[int, int], list[float]] = {}
        for value, key in zip(self.samples, self.rounds):
            by_round.setdefault(key, []).append(value)
        return {key: float(statistics.median(values)) for key, values in by_round.items()}

    def log_slowness(self) -> dict[tuple[int, int], float]:
        """log of each round median, signed so that larger is worse."""
        sign = 1.0 if self.better == "lower" else -1.0
        return {key: sign * math.log(m) for key, m in self.medians_by_round().items()}


@dataclass(frozen=True)
class Inputs:
    """A report directory as read by the tests: report.yml and its results."""

    spec: dict[str, Any]
    environments: list[str]  # labels in the order of the results files
    measured: dict[str, dict[str, Measured]]  # label -> metric id -> metric (ok only)
    # label -> (file index, round) -> when the round started; None if unreadable
    starts: dict[str, dict[tuple[int, int], dt.datetime | None]] | None = None

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

    def sequential(self, env: str) -> bool:
        """Whether every round of one side started before any of the other's
        (docs/formats.md: "measured one after the other"); False when a side
        has no rounds or a start time is missing or unreadable."""
        starts = self.starts or {}
        a = list(starts.get(self.baseline, {}).values())
        b = list(starts.get(env, {}).values())
        if not a or not b or None in a or None in b:
            return False
        times_a = [t for t in a if t is not None]
        times_b = [t for t in b if t is not None]
        return max(times_a) < min(times_b) or max(times_b) < min(times_a)

    def series(self, metric_id: str, env: str) -> tuple[independent.Series, independent.Series]:
        """Each side's rounds of a metric as (start, log slowness), the start
        in seconds after the earliest round of either side."""
        starts = self.starts or {}
        sides = (self.baseline, env)
        times = [t for label in sides for t in starts[label].values() if t is not None]
        origin = min(times)
        out = []
        for label, metric in zip(sides, self.pair(metric_id, env)):
            logs = metric.log_slowness()
            seconds = []
            for key in logs:
                when = starts[label][key]
                assert when is not None
                seconds.append((when - origin).total_seconds())
            out.append((seconds, list(logs.values())))
        return out[0], out[1]

    def drift(self, env: str, tested: Iterable[str]) -> independent.DriftFit | None:
        """The drift every tested metric shares, when ``env`` was measured one
        after the baseline (or before it); None when they alternated."""
        tested = list(tested)
        starts = self.starts or {}
        if not self.sequential(env) or any(
                key not in starts[label] for m in tested
                for label, metric in zip((self.baseline, env), self.pair(m, env))
                for key in metric.rounds):
            return None  # a round without a start time: nothing to place in time
        return independent.drift_fit([self.series(m, env) for m in tested])

    def raw_p_values(self, env: str, tested: Iterable[str]) -> dict[str, float]:
        """Each tested metric's p before adjustment (a side with a single round
        has none): Welch's test on the log round medians, with the drift taken
        out when the sides were measured one after the other."""
        tested = list(tested)
        fit = self.drift(env, tested)
        raw = {}
        for m in tested:
            base, other = self.pair(m, env)
            if min(base.round_count, other.round_count) < 2:
                continue
            if fit is None:
                raw[m] = independent.welch(list(base.log_slowness().values()),
                                           list(other.log_slowness().values())).p
            else:
                raw[m] = independent.drift_welch(*self.series(m, env), fit).p
        return raw

    def p_values(self, env: str, tested: Iterable[str]) -> dict[str, float]:
        """The raw p-values adjusted together (Benjamini-Hochberg)."""
        return benjamini_hochberg(self.raw_p_values(env, tested))


def read_inputs(report_dir: Path) -> Inputs:
    spec = yaml.safe_load((report_dir / "report.yml").read_text(encoding="utf-8"))
    names = spec.get("results") or sorted(
        str(p.relative_to(report_dir)) for p in (report_dir / "results").glob("*.json"))
    environments: list[str] = []
    starts: dict[str, dict[tuple[int, int], dt.datetime | None]] = {}
    parts: dict[str, dict[str, list[tuple[Any, int, list[float], list[int]]]]] = {}
    for index, name in enumerate(names):
        doc = json.loads((report_dir / name).read_text(encoding="utf-8"))
        label = doc["environment"]["label"]
        if label not in environments:
            environments.append(label)
        for r in doc.get("rounds", []):
            starts.setdefault(label, {})[index, r["round"]] = _when(r.get("started_at", ""))
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
    return Inputs(spec, environments, measured, starts)


def _when(text: str) -> dt.datetime | None:
    """An ISO 8601 start time ("2026-06-09T10:00:00Z"), None if unreadable."""
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


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
