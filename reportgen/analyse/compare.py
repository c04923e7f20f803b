"""The comparison rules: medians, slowdown, bootstrap interval, labels, tiers.

Pure functions over numbers and model objects.  A *slowdown* s is how many
times worse an environment is than the baseline: value/base for metrics where
lower is better, base/value where higher is better, so s > 1 always means
"worse" whatever the metric's direction.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from reportgen.core import figures
from reportgen.core.model import TIERS, Better, Metric, Round, Thresholds
from reportgen.core.stability import CV_LIMIT, stability

# What a comparison concludes; analysis.json carries these words as they are.
Verdict = Literal["same", "inconclusive", "worse", "better", "not-comparable"]
VERDICTS: tuple[Verdict, ...] = ("same", "inconclusive", "worse", "better", "not-comparable")
# Verdicts that sit outside the tiers: they are neither fine nor a cost.
UNTIERED: tuple[Verdict, ...] = ("inconclusive", "not-comparable")

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_LEVEL = 0.95
MIN_SAMPLES_FOR_INTERVAL = 3
CHUNK_VALUES = 1 << 20  # drawn values per bootstrap chunk (8 MiB of float64)


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
    # The bootstrap draws the interval came from (empty without an interval),
    # kept so the headline combines them rather than drawing them again.
    draws: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0),
                                           compare=False, repr=False)


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


def slowdown_draws(base: Metric, other: Metric, seed: int,
                   resamples: int = BOOTSTRAP_RESAMPLES) -> npt.NDArray[np.float64]:
    """``resamples`` draws of the slowdown of medians, by a two-level
    bootstrap: rounds with replacement, then samples within each drawn round
    (Kalibera and Jones, "Rigorous Benchmarking in Reasonable Time", ISMM 2013).

    Between-run noise is usually the larger part on shared machines, so a
    one-level bootstrap over all samples would give intervals that are too
    narrow.  Seeded numpy Generator, so a build is byte-for-byte repeatable.
    """
    rng = np.random.default_rng(seed)
    base_medians = _resampled_medians(base, rng, resamples)
    other_medians = _resampled_medians(other, rng, resamples)
    if base.better == "lower":
        return other_medians / base_medians
    return base_medians / other_medians


def _resampled_medians(metric: Metric, rng: np.random.Generator,
                       resamples: int) -> npt.NDArray[np.float64]:
    """The median of each two-level resample of ``metric``'s samples.

    Works on ranks: a resample's middle values are the values of its middle
    ranks, found by counting ranks per resample (np.bincount, a cumulative
    sum) instead of sorting or partitioning each resample, which cost several
    times more at 10,000 samples.  Worked in chunks of about CHUNK_VALUES
    drawn values; the random stream is consumed in the same order whatever
    the chunk size.
    """
    values = np.asarray(metric.samples, dtype=np.float64)
    rounds = np.asarray(metric.round_numbers)
    order = np.argsort(rounds, kind="stable")
    values, rounds = values[order], rounds[order]
    _, starts, counts = np.unique(rounds, return_index=True, return_counts=True)
    total, widest = len(values), int(counts.max())
    by_value = np.argsort(values, kind="stable")
    rank = np.empty(total, dtype=np.int64)
    rank[by_value] = np.arange(total)
    picked = rng.integers(0, len(counts), size=(resamples, len(counts)))
    chosen = counts[picked]
    sizes = chosen.sum(axis=1)
    medians = np.empty(resamples, dtype=np.float64)
    step = max(1, CHUNK_VALUES // (len(counts) * widest))
    for first in range(0, resamples, step):
        rows = slice(first, first + step)
        count = chosen[rows][..., None]
        height = count.shape[0]
        offsets = rng.random((height, len(counts), widest))
        positions = starts[picked[rows]][..., None] + (offsets * count).astype(np.int64)
        keep = np.arange(widest) < count  # rounds narrower than the widest are padded
        drawn = rank[np.minimum(positions, total - 1)] + \
            (np.arange(height) * total)[:, None, None]
        tally = np.bincount(drawn[keep], minlength=height * total).reshape(height, total)
        below = np.cumsum(tally, axis=1)
        size = sizes[rows]
        low = np.count_nonzero(below <= ((size - 1) // 2)[:, None], axis=1)
        high = np.count_nonzero(below <= (size // 2)[:, None], axis=1)
        ordered = values[by_value]
        medians[rows] = (ordered[low] + ordered[high]) / 2
    return medians


def seed(metric_id: str, env: str) -> int:
    """The bootstrap seed of one comparison: fixed by metric and environment."""
    return zlib.crc32(f"{metric_id}/{env}".encode())


def bootstrap_interval(base: Metric, other: Metric, seed: int,
                       resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float] | None:
    """The 95% percentile interval of :func:`slowdown_draws`, or None with
    fewer than MIN_SAMPLES_FOR_INTERVAL samples on either side."""
    draws = interval_draws(base, other, seed, resamples)
    return percentile_interval(draws) if draws.size else None


def interval_draws(base: Metric, other: Metric, seed: int,
                   resamples: int = BOOTSTRAP_RESAMPLES) -> npt.NDArray[np.float64]:
    """:func:`slowdown_draws`, or none with fewer than MIN_SAMPLES_FOR_INTERVAL
    samples on either side (too few to resample)."""
    if len(base.samples) < MIN_SAMPLES_FOR_INTERVAL or \
            len(other.samples) < MIN_SAMPLES_FOR_INTERVAL:
        return np.empty(0)
    return slowdown_draws(base, other, seed, resamples)


def percentile_interval(draws: npt.NDArray[np.float64]) -> tuple[float, float]:
    """The central BOOTSTRAP_LEVEL interval of bootstrap draws (percentile method)."""
    tail = (1 - BOOTSTRAP_LEVEL) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


# The rules of docs/formats.md, "Comparison rules"; each constant is cited there.
MIN_ROUNDS = 5  # rounds per side before anything but "inconclusive" is said
ALPHA = 0.05  # significance level of the rank test on round medians
INCONCLUSIVE_BADGE = "?"  # "~" is taken: "~4x" means "about 4x"


def round_medians(metric: Metric) -> npt.NDArray[np.float64]:
    """The median of each round's samples, in round order."""
    values = np.asarray(metric.samples, dtype=np.float64)
    rounds = np.asarray(metric.round_numbers)
    return np.array([np.median(values[rounds == r]) for r in np.unique(rounds)])


def p_value(base: Metric, other: Metric) -> float | None:
    """Two-sided Mann-Whitney U test on the round medians (as Go's benchstat
    tests its samples); None when a side has a single round to rank."""
    a, b = round_medians(base), round_medians(other)
    if len(a) < 2 or len(b) < 2:
        return None
    from scipy.stats import mannwhitneyu  # scipy loads slowly: only when comparing

    # Named rather than scipy's "auto", whose choice has changed between releases.
    exact = min(len(a), len(b)) <= 8 and len(np.unique(np.concatenate([a, b]))) == len(a) + len(b)
    return float(mannwhitneyu(a, b, alternative="two-sided", use_continuity=True,
                              method="exact" if exact else "asymptotic").pvalue)


def adjusted_p_values(raw: dict[str, float | None]) -> dict[str, float | None]:
    """Benjamini-Hochberg adjusted p-values of one environment's comparisons
    (``scipy.stats.false_discovery_control``), keyed as given; None stays None.

    A report tests every metric at once: with ten metrics at a 5% level, one
    run compared with a second run of the same machine would show a
    "difference" in four reports out of ten.  Controlling the false discovery
    rate keeps that near 5% for the whole report while costing little power
    when most metrics really differ.
    """
    tested = {key: p for key, p in raw.items() if p is not None}
    if not tested:
        return dict(raw)
    from scipy.stats import false_discovery_control  # scipy loads slowly

    adjusted = false_discovery_control(list(tested.values()), method="bh")
    return {**raw, **{key: float(q) for key, q in zip(tested, adjusted)}}


def change_interval(interval: tuple[float, float], better: Better) -> tuple[float, float]:
    """An interval of the slowdown as the change of the median in the metric's
    own direction (time +8%, throughput -36%)."""
    low, high = interval
    return (low - 1, high - 1) if better == "lower" else (1 / high - 1, 1 / low - 1)


def judge(change: float, interval: tuple[float, float] | None, p: float | None,
          rounds: tuple[int, int], cv: float, better: Better, band: float
          ) -> tuple[Verdict, str]:
    """The verdict and, for inconclusive, why; first matching rule wins."""
    fewest = min(rounds)
    if fewest < MIN_ROUNDS:
        return "inconclusive", f"{fewest} round{'' if fewest == 1 else 's'}, need >= {MIN_ROUNDS}"
    if interval is not None:
        low, high = change_interval(interval, better)
        if -band < low and high < band:
            return "same", ""
    if p is not None and p < ALPHA and abs(change) >= band:
        return ("worse" if (change > 0) == (better == "lower") else "better"), ""
    if cv >= CV_LIMIT:
        return "inconclusive", f"CV {round(cv * 100)}%"
    if p is None or p >= ALPHA:
        return "inconclusive", f"p = {figures.p_value(p)}"
    return "inconclusive", f"interval reaches past {figures.band(band)}"


def label(verdict: Verdict, s: float, change: float, env: str, thresholds: Thresholds) -> str:
    """The badge for one comparison, as docs/formats.md's comparison rules give it."""
    if verdict == "inconclusive":
        return INCONCLUSIVE_BADGE
    if verdict == "same":
        return "same"
    if s < 1:
        return f"{env} faster"
    if s >= thresholds.multiplier:
        return f"~{round(s)}x"
    return f"{round(change * 100):+d}%"


def tier(s: float, neutral: bool, thresholds: Thresholds) -> str:
    """negligible < moderate <= s < severe <= s; a neutral result is negligible."""
    if neutral or s < thresholds.moderate:
        return "negligible"
    return "moderate" if s < thresholds.severe else "severe"


def compare(base: Metric, other: Metric, env: str, thresholds: Thresholds, *,
            noise: float | None = None, resamples: int = BOOTSTRAP_RESAMPLES,
            p: float | None | Literal["raw"] = "raw") -> Comparison:
    """Compare one metric of ``env`` with the baseline's.  ``noise`` is the
    metric's noise band when an A/A run widened it (default: thresholds.noise);
    ``p`` is the p-value adjusted for the report's other comparisons
    (:func:`adjusted_p_values`), by default this comparison's own;
    ``resamples`` exists for simulations, builds always use the default."""
    base_median, value = median(base.samples), median(other.samples)
    s = slowdown(base_median, value, base.better)
    change = value / base_median - 1
    draws = interval_draws(base, other, seed(base.id, env), resamples)
    interval = percentile_interval(draws) if draws.size else None
    if p == "raw":
        p = p_value(base, other)
    rounds = (len(set(base.round_numbers)), len(set(other.round_numbers)))
    cv = max(stability(base.samples).cv, stability(other.samples).cv)
    band = thresholds.noise if noise is None else noise
    verdict, reason = judge(change, interval, p, rounds, cv, base.better, band)
    text = label(verdict, s, change, env, thresholds)
    level = verdict if verdict in UNTIERED else tier(s, verdict != "worse", thresholds)
    return Comparison(base.id, env, base.unit, base.better, base_median, value, s, change,
                      interval, text, level, verdict, p, reason, rounds,
                      (len(base.samples), len(other.samples)), draws)


def compose(parts: Sequence[tuple[str, str]]) -> str:
    """A section badge from (short name, label) pairs: ``-36% write, -48% read``."""
    if len(parts) == 1:
        return parts[0][1]
    return ", ".join(badge_part(short, text) for short, text in parts)


def badge_part(short: str, text: str) -> str:
    """One metric's part of a section badge: ``-36% write``."""
    return f"{text} {short}".strip()


# How each untiered verdict is written out in words (badges use a glyph).
VERDICT_WORDS = {"inconclusive": "inconclusive", "not-comparable": "not comparable"}


def verdict_text(c: Comparison) -> str:
    """``inconclusive (3 rounds, need >= 5)``; the label for any other verdict."""
    if c.verdict not in UNTIERED:
        return c.label
    word = VERDICT_WORDS[c.verdict]
    return f"{word} ({c.reason})" if c.reason else word


def figure(comparisons: Sequence[Comparison]) -> str:
    """A conclusions figure: one label, or the range from mildest to worst;
    untiered results are written out with their reasons, never as a range end."""
    tiered = sorted((c for c in comparisons if c.tier not in UNTIERED), key=lambda c: c.slowdown)
    parts = []
    if tiered:
        first, last = tiered[0].label, tiered[-1].label
        parts.append(first if first == last else f"{first} to {last}")
    for verdict in UNTIERED:
        found = [c for c in comparisons if c.verdict == verdict]
        if found:
            reasons = "; ".join(dict.fromkeys(c.reason for c in found if c.reason))
            parts.append(f"{VERDICT_WORDS[verdict]} ({reasons})" if reasons
                         else VERDICT_WORDS[verdict])
    return ", ".join(parts)


def worst_tier(comparisons: Sequence[Comparison]) -> str:
    """The worst tier; any untiered result makes the whole untiered (not
    comparable before inconclusive), so it is never filed as fine."""
    for verdict in reversed(UNTIERED):
        if any(c.tier == verdict for c in comparisons):
            return verdict
    return max((c.tier for c in comparisons), key=TIERS.index)


@dataclass(frozen=True)
class NoiseFloor:
    """What an A/A run (one environment measured twice) says about a metric."""

    change: float  # b's median against a's, in the metric's own direction
    interval: tuple[float, float] | None  # 95% interval of that change
    band: float  # the metric's noise band: the smallest change called a difference


def noise_floor(a: Metric, b: Metric, thresholds: Thresholds) -> NoiseFloor:
    """The band is the farther end of the A/A interval of the change, when
    that lies beyond ``thresholds.noise``."""
    found = bootstrap_interval(a, b, seed(a.id, "noise"))
    interval = change_interval(found, a.better) if found else None
    band = max(thresholds.noise, -interval[0], interval[1]) if interval else thresholds.noise
    return NoiseFloor(median(b.samples) / median(a.samples) - 1, interval, band)


def sequential(a: Sequence[Round], b: Sequence[Round]) -> bool:
    """True when every round of one side started before the first round of
    the other: measured one after the other, not in alternation, so slow
    drift of the machine is not controlled.  False when a start time is
    missing or unreadable (nothing can be said)."""
    times_a, times_b = _starts(a), _starts(b)
    if not times_a or not times_b:
        return False
    return max(times_a) < min(times_b) or max(times_b) < min(times_a)


def _starts(rounds: Sequence[Round]) -> list[dt.datetime]:
    try:
        return [dt.datetime.fromisoformat(r.started_at.replace("Z", "+00:00")) for r in rounds]
    except ValueError:
        return []


def _check_positive(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"not a finite number: {value}")
    if value <= 0:
        raise ValueError(f"values must be positive to be compared, got {value}")


NOT_COMPARABLE_LABEL = "not comparable"


def not_comparable(base: Metric, other: Metric, env: str, reason: str) -> Comparison:
    """A comparison refused because ``env`` measured the metric differently:
    no slowdown, no change, no interval (NaN and None), outside the tiers."""
    nan = math.nan
    return Comparison(base.id, env, base.unit, base.better, median(base.samples),
                      median(other.samples), nan, nan, None, NOT_COMPARABLE_LABEL,
                      "not-comparable", "not-comparable", reason=reason,
                      rounds=(len(set(base.round_numbers)), len(set(other.round_numbers))),
                      samples=(len(base.samples), len(other.samples)))
