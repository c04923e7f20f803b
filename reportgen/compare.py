"""The comparison rules: medians, slowdown, bootstrap interval, labels, tiers.

Pure functions over numbers and model objects.  A *slowdown* s is how many
times worse an environment is than the baseline: value/base for metrics where
lower is better, base/value where higher is better, so s > 1 always means
"worse" whatever the metric's direction.
"""

from __future__ import annotations

import math
import random
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from reportgen.model import TIERS, Better, Metric, Thresholds

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_LEVEL = 0.95
MIN_SAMPLES_FOR_INTERVAL = 3


@dataclass(frozen=True)
class Comparison:
    """One metric of one environment against the baseline."""

    metric_id: str
    env: str
    unit: str
    better: Better
    base_median: float
    median: float
    slowdown: float
    change: float  # median / base_median - 1, in the metric's own direction
    interval: tuple[float, float] | None  # 95% bootstrap interval of the slowdown
    label: str
    tier: str


def median(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("no samples")
    for value in samples:
        _check_positive(value)
    return float(statistics.median(samples))


def slowdown(base: float, value: float, better: Better) -> float:
    """How many times worse ``value`` is than ``base`` (> 1: worse)."""
    _check_positive(base)
    _check_positive(value)
    return value / base if better == "lower" else base / value


def bootstrap_interval(base: Sequence[float], other: Sequence[float], better: Better,
                       seed: int) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the slowdown of medians, or None.

    Seeded, and drawing with ``Random.random`` only (whose sequence Python
    keeps stable across versions), so a build is byte-for-byte repeatable.
    """
    if len(base) < MIN_SAMPLES_FOR_INTERVAL or len(other) < MIN_SAMPLES_FOR_INTERVAL:
        return None
    rng = random.Random(seed)

    def resample(xs: Sequence[float]) -> float:
        n = len(xs)
        return statistics.median([xs[int(rng.random() * n)] for _ in range(n)])

    ratios = sorted(slowdown(resample(base), resample(other), better)
                    for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - BOOTSTRAP_LEVEL) / 2
    low = ratios[int(tail * (BOOTSTRAP_RESAMPLES - 1))]
    high = ratios[math.ceil((1 - tail) * (BOOTSTRAP_RESAMPLES - 1))]
    return low, high


def label(s: float, change: float, interval: tuple[float, float] | None, env: str,
          thresholds: Thresholds) -> str:
    """The badge for one comparison, as DESIGN.md's comparison rules give it."""
    if abs(change) < thresholds.noise or (interval is not None and interval[0] <= 1 <= interval[1]):
        return "same"
    if s < 1:
        return f"{env} faster"
    if s >= thresholds.multiplier:
        return f"~{round(s)}x"
    return f"{round(change * 100):+d}%"


def neutral(label_text: str, s: float) -> bool:
    """True when the environment is not worse: ``same`` or faster."""
    return label_text == "same" or s < 1


def tier(s: float, neutral: bool, thresholds: Thresholds) -> str:
    """negligible < moderate <= s < severe <= s; a neutral result is negligible."""
    if neutral or s < thresholds.moderate:
        return "negligible"
    return "moderate" if s < thresholds.severe else "severe"


def compare(base: Metric, other: Metric, env: str, thresholds: Thresholds) -> Comparison:
    """Compare one metric of ``env`` with the baseline's."""
    base_median, value = median(base.samples), median(other.samples)
    s = slowdown(base_median, value, base.better)
    change = value / base_median - 1
    seed = zlib.crc32(f"{base.id}/{env}".encode())
    interval = bootstrap_interval(base.samples, other.samples, base.better, seed)
    text = label(s, change, interval, env, thresholds)
    return Comparison(base.id, env, base.unit, base.better, base_median, value, s, change,
                      interval, text, tier(s, neutral(text, s), thresholds))


def compose(parts: Sequence[tuple[str, str]]) -> str:
    """A section badge from (short name, label) pairs: ``-36% write, -48% read``."""
    if len(parts) == 1:
        return parts[0][1]
    return ", ".join(f"{text} {short}".strip() for short, text in parts)


def figure(comparisons: Sequence[Comparison]) -> str:
    """A conclusions figure: one label, or the range from mildest to worst."""
    ordered = sorted(comparisons, key=lambda c: c.slowdown)
    first, last = ordered[0].label, ordered[-1].label
    return first if first == last else f"{first} to {last}"


def worst_tier(comparisons: Sequence[Comparison]) -> str:
    return max((c.tier for c in comparisons), key=TIERS.index)


def _check_positive(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"not a finite number: {value}")
    if value <= 0:
        raise ValueError(f"values must be positive to be compared, got {value}")
