"""The comparison rules: medians, slowdown, bootstrap interval, labels, tiers.

Pure functions over numbers and model objects.  A *slowdown* s is how many
times worse an environment is than the baseline: value/base for metrics where
lower is better, base/value where higher is better, so s > 1 always means
"worse" whatever the metric's direction.
"""

from __future__ import annotations

import math
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from reportgen.model import TIERS, Better, Metric, Thresholds

# What a comparison concludes; analysis.json carries these words as they are.
Verdict = Literal["same", "inconclusive", "worse", "better", "not-comparable"]
VERDICTS: tuple[Verdict, ...] = ("same", "inconclusive", "worse", "better", "not-comparable")
# Verdicts that sit outside the tiers: they are neither fine nor a cost.
UNTIERED: tuple[Verdict, ...] = ("inconclusive", "not-comparable")

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
    tier: str  # one of TIERS, or the verdict itself when it is UNTIERED
    verdict: Verdict = "same"
    p_value: float | None = None  # significance test on round medians
    reason: str = ""  # why, for inconclusive and not-comparable
    rounds: tuple[int, int] = (1, 1)  # rounds of the baseline and of env
    samples: tuple[int, int] = (0, 0)  # samples of the baseline and of env


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


def slowdown_draws(base: Metric, other: Metric, seed: int) -> npt.NDArray[np.float64]:
    """BOOTSTRAP_RESAMPLES draws of the slowdown of medians, by a two-level
    bootstrap: rounds with replacement, then samples within each drawn round
    (Kalibera and Jones, "Rigorous Benchmarking in Reasonable Time", ISMM 2013).

    Between-run noise is usually the larger part on shared machines, so a
    one-level bootstrap over all samples would give intervals that are too
    narrow.  Seeded numpy Generator, so a build is byte-for-byte repeatable.
    """
    rng = np.random.default_rng(seed)
    base_medians = _resampled_medians(base, rng)
    other_medians = _resampled_medians(other, rng)
    if base.better == "lower":
        return other_medians / base_medians
    return base_medians / other_medians


def _resampled_medians(metric: Metric, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """The median of each two-level resample of ``metric``'s samples."""
    values = np.asarray(metric.samples, dtype=np.float64)
    rounds = np.asarray(metric.round_numbers)
    order = np.argsort(rounds, kind="stable")
    values, rounds = values[order], rounds[order]
    _, starts, counts = np.unique(rounds, return_index=True, return_counts=True)
    widest = int(counts.max())
    picked = rng.integers(0, len(counts), size=(BOOTSTRAP_RESAMPLES, len(counts)))
    offsets = rng.random((BOOTSTRAP_RESAMPLES, len(counts), widest))
    chosen_counts = counts[picked][..., None]
    positions = starts[picked][..., None] + (offsets * chosen_counts).astype(np.int64)
    drawn = np.where(np.arange(widest) < chosen_counts, values[np.minimum(positions,
                                                                          len(values) - 1)],
                     np.nan)
    medians: npt.NDArray[np.float64] = np.nanmedian(
        drawn.reshape(BOOTSTRAP_RESAMPLES, -1), axis=1)
    return medians


def seed(metric_id: str, env: str) -> int:
    """The bootstrap seed of one comparison: fixed by metric and environment."""
    return zlib.crc32(f"{metric_id}/{env}".encode())


def bootstrap_interval(base: Metric, other: Metric, seed: int) -> tuple[float, float] | None:
    """The 95% percentile interval of :func:`slowdown_draws`, or None with
    fewer than MIN_SAMPLES_FOR_INTERVAL samples on either side."""
    if len(base.samples) < MIN_SAMPLES_FOR_INTERVAL or \
            len(other.samples) < MIN_SAMPLES_FOR_INTERVAL:
        return None
    return percentile_interval(slowdown_draws(base, other, seed))


def percentile_interval(draws: npt.NDArray[np.float64]) -> tuple[float, float]:
    """The central BOOTSTRAP_LEVEL interval of bootstrap draws (percentile method)."""
    tail = (1 - BOOTSTRAP_LEVEL) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


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
    interval = bootstrap_interval(base, other, seed(base.id, env))
    text = label(s, change, interval, env, thresholds)
    verdict: Verdict = "same" if text == "same" else "better" if s < 1 else "worse"
    return Comparison(base.id, env, base.unit, base.better, base_median, value, s, change,
                      interval, text, tier(s, neutral(text, s), thresholds), verdict,
                      rounds=(len(set(base.round_numbers)), len(set(other.round_numbers))),
                      samples=(len(base.samples), len(other.samples)))


def compose(parts: Sequence[tuple[str, str]]) -> str:
    """A section badge from (short name, label) pairs: ``-36% write, -48% read``."""
    if len(parts) == 1:
        return parts[0][1]
    return ", ".join(badge_part(short, text) for short, text in parts)


def badge_part(short: str, text: str) -> str:
    """One metric's part of a section badge: ``-36% write``."""
    return f"{text} {short}".strip()


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
