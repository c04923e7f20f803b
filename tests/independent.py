"""The bootstrap of docs/formats.md, written again in plain Python, for tests
to check reportgen against something other than itself.

Nothing here comes from reportgen or numpy: the random stream is the standard
library's Mersenne Twister (reportgen draws from numpy's PCG64), medians are
``statistics.median`` of each resample (reportgen counts ranks), and the
percentile is written out below.  The two cannot agree draw for draw, only in
distribution, so a test compares an interval end of reportgen's with the
reference's quantiles around the same level, within the Monte-Carlo error
:func:`accepted` works out.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence

from reportgen.core.model import Metric

Rounds = Sequence[Sequence[float]]  # the samples of each round

REFERENCE_RESAMPLES = 20_000  # ten times reportgen's 2000
Z = 4.0  # how many standard deviations of Monte-Carlo error an end may be off


def rounds_of(metric: Metric) -> list[list[float]]:
    """A metric's samples grouped by round, in round order."""
    grouped: dict[int, list[float]] = {}
    for value, number in zip(metric.samples, metric.round_numbers):
        grouped.setdefault(number, []).append(value)
    return [grouped[number] for number in sorted(grouped)]


def resampled_median(rounds: Rounds, rng: random.Random) -> float:
    """One two-level resample: as many rounds as there are, drawn with
    replacement, then within each drawn round as many samples as it has, drawn
    with replacement; the median of everything drawn."""
    drawn = rng.choices(rounds, k=len(rounds))
    return statistics.median([x for r in drawn for x in rng.choices(r, k=len(r))])


def slowdown_draws(base: Rounds, other: Rounds, better: str, resamples: int,
                   rng: random.Random) -> list[float]:
    """Draws of the slowdown of medians: other/base when lower is better,
    base/other when higher is better."""
    draws = []
    for _ in range(resamples):
        b, o = resampled_median(base, rng), resampled_median(other, rng)
        draws.append(o / b if better == "lower" else b / o)
    return draws


def percentile(draws: Sequence[float], level: float) -> float:
    """The ``level`` quantile (0..1) by linear interpolation between the
    order statistics ((n - 1) * level from the smallest; Hyndman and Fan's
    definition 7, the one reportgen's numpy.percentile uses too)."""
    ordered = sorted(draws)
    position = (len(ordered) - 1) * level
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def tolerance(level: float, resamples: int, reference: int = REFERENCE_RESAMPLES) -> float:
    """How far, as a probability, an end found at ``level`` from ``resamples``
    draws may be from the same level of ``reference`` draws.

    The q-quantile of n independent draws sits at a true level F(end) that
    varies with standard deviation sqrt(q(1 - q)/n) (the order statistic of
    uniforms), whatever the shape of the distribution.  Both sides have that
    error and they are independent, so the difference of levels has
    sigma = sqrt(q(1 - q)(1/n + 1/N)).  For q = 0.025, n = 2000, N = 20000:
    sigma = 0.0037, and Z = 4 sigma = 0.0146, which a correct implementation
    exceeds with probability 6e-5 per end (normal tail).  A level, not a value,
    so it holds for skewed and lumpy bootstrap distributions alike.
    """
    return Z * math.sqrt(level * (1 - level) * (1 / resamples + 1 / reference))


def accepted(draws: Sequence[float], level: float, resamples: int) -> tuple[float, float]:
    """The values an end at ``level`` of ``resamples`` draws may take: the
    reference draws' quantiles ``tolerance`` below and above that level."""
    off = tolerance(level, resamples, len(draws))
    return percentile(draws, max(level - off, 0.0)), percentile(draws, min(level + off, 1.0))
