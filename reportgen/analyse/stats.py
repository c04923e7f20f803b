"""The statistics behind a comparison: medians, slowdown, the two-level
bootstrap of its interval, and the significance test on round medians.

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

import numpy as np
import numpy.typing as npt

from reportgen.core.model import Better, Metric

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_LEVEL = 0.95
MIN_SAMPLES_FOR_INTERVAL = 3
CHUNK_VALUES = 1 << 20  # drawn values per bootstrap chunk (8 MiB of float64)


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


def median_interval(metric: Metric, seed: int,
                    resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float] | None:
    """The 95% interval of one environment's median by the same two-level
    bootstrap (rounds, then samples within them); None with fewer than
    MIN_SAMPLES_FOR_INTERVAL samples."""
    if len(metric.samples) < MIN_SAMPLES_FOR_INTERVAL:
        return None
    return percentile_interval(_resampled_medians(metric, np.random.default_rng(seed), resamples))


def percentile_interval(draws: npt.NDArray[np.float64]) -> tuple[float, float]:
    """The central BOOTSTRAP_LEVEL interval of bootstrap draws (percentile method)."""
    tail = (1 - BOOTSTRAP_LEVEL) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def round_medians(metric: Metric) -> npt.NDArray[np.float64]:
    """The median of each round's samples, in round order."""
    values = np.asarray(metric.samples, dtype=np.float64)
    rounds = np.asarray(metric.round_numbers)
    return np.array([np.median(values[rounds == r]) for r in np.unique(rounds)])


def log_slowness(metric: Metric) -> npt.NDArray[np.float64]:
    """The log of each round's median, signed so that larger is worse: log
    value where lower is better, -log value where higher is better."""
    logs = np.log(round_medians(metric))
    return logs if metric.better == "lower" else -logs


def p_value(base: Metric, other: Metric) -> float | None:
    """Two-sided Mann-Whitney U test on the round medians (as Go's benchstat
    tests its samples); None when a side has a single round to rank.

    A rank test stays valid whatever shape the rounds take; a t-test on their
    logarithms found more at 5 rounds but, with rounds that swing between two
    levels, called a difference in 8.5% of simulated A/A reports at 10
    (benchmarks/calibration).  So the profiles take more rounds instead.
    """
    a, b = round_medians(base), round_medians(other)
    if len(a) < 2 or len(b) < 2:
        return None
    from scipy.stats import mannwhitneyu  # scipy loads slowly: only when comparing

    # Named rather than scipy's "auto", whose choice has changed between releases.
    exact = min(len(a), len(b)) <= 8 and len(np.unique(np.concatenate([a, b]))) == len(a) + len(b)
    return float(mannwhitneyu(a, b, alternative="two-sided", use_continuity=True,
                              method="exact" if exact else "asymptotic").pvalue)


# A variance of log values below this is rounding error (a spread of one part
# in 10^12): five equal logarithms have a variance near 1e-32, not 0.
TINY = 1e-24


def welch(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], extra: float = 0.0) -> float:
    """Two-sided p of Welch's t-test of mean(b) - mean(a); ``extra`` adds a
    variance to that difference's (a drift correction's own uncertainty),
    keeping the Welch-Satterthwaite degrees of freedom of the two sides."""
    from scipy.stats import t as student  # scipy loads slowly: only when comparing

    va, vb = float(np.var(a, ddof=1)) / len(a), float(np.var(b, ddof=1)) / len(b)
    diff = float(np.mean(b) - np.mean(a))
    if va + vb + extra <= TINY:  # nothing varies: the difference is all there is
        return 1.0 if abs(diff) <= math.sqrt(TINY) else 0.0
    if va + vb <= TINY:  # the rounds agree; only the drift's uncertainty is left
        df = float(len(a) + len(b) - 2)
    else:
        df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return float(2 * student.sf(abs(diff) / math.sqrt(va + vb + extra), df))


@dataclass(frozen=True)
class Drift:
    """How the machine drifted while two environments were measured one
    after the other: the least-squares slope of the log round medians
    against their start times, one slope shared by both sides and every
    metric compared (each series keeps its own level)."""

    slope: float  # log slowness per second (> 0: the machine got slower)
    se: float  # standard error of the slope
    gap: float  # seconds from the baseline's mean round start to the other side's

    @property
    def over_gap(self) -> float:
        """The change the drift alone makes between the two sides."""
        return math.expm1(self.slope * self.gap)



Series = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]  # start seconds, log slowness


def series(metric: Metric, starts: dict[int, float]) -> Series:
    """A metric's rounds as (start time in seconds, log slowness)."""
    numbers = sorted(set(metric.round_numbers))
    return np.array([starts[n] for n in numbers]), log_slowness(metric)


def drift(pairs: Sequence[tuple[Series, Series]]) -> Drift:
    """The slope every series shares, each around its own mean (a fixed
    effect per series), by least squares; the gap is the mean over pairs."""
    groups = [s for pair in pairs for s in pair]
    centred = [(t - t.mean(), y - y.mean()) for t, y in groups]
    sxx = sum(float(t @ t) for t, _ in centred)
    slope = sum(float(t @ y) for t, y in centred) / sxx if sxx > 0 else 0.0
    rss = sum(float(((y - slope * t) ** 2).sum()) for t, y in centred)
    df = sum(len(t) for t, _ in groups) - len(groups) - 1
    se = math.sqrt(rss / df / sxx) if df > 0 and sxx > 0 else math.inf
    gap = float(np.mean([b[0].mean() - a[0].mean() for a, b in pairs]))
    return Drift(slope, se, gap)


def drift_p_value(base: Series, other: Series, fit: Drift) -> float | None:
    """Welch's t-test on the log round medians with the drift taken out, and
    its uncertainty over the gap between the sides added to the difference's."""
    (ta, ya), (tb, yb) = base, other
    if len(ya) < 2 or len(yb) < 2:
        return None
    if not math.isfinite(fit.se):  # too few rounds to tell drift from noise
        return 1.0
    return welch(ya - fit.slope * ta, yb - fit.slope * tb, (fit.gap * fit.se) ** 2)


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


def _check_positive(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"not a finite number: {value}")
    if value <= 0:
        raise ValueError(f"values must be positive to be compared, got {value}")
