"""The bootstrap and the significance test of docs/formats.md, written again
in plain Python, for tests to check reportgen against something other than
itself.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: tests/recompute.py imports this without reportgen
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


# --- Welch's t-test on log round medians, and the drift correction -------------------
#
# Student's t tail by the regularized incomplete beta function, evaluated by its
# continued fraction (Lentz's method, as in Press et al., "Numerical Recipes",
# 6.4), from math.lgamma alone: no scipy.  For T with df degrees of freedom
# (any real df > 0), P(|T| >= |t|) = I_x(df/2, 1/2) with x = df / (df + t^2).
# test_verdicts holds it against closed forms (df = 1 and 2) and against
# Simpson's rule on the density.

def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    # The fraction converges fast below the mean of the beta distribution;
    # above it, I_x(a, b) = 1 - I_(1-x)(b, a).
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(x, a, b) / a
    return 1.0 - front * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny = 1e-300

    def guard(v: float) -> float:
        return tiny if abs(v) < tiny else v

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1))
    h = d
    for m in range(1, 10_000):
        # the even step, then the odd step, of the continued fraction
        for coefficient in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 / guard(1.0 + coefficient * d)
            c = guard(1.0 + coefficient / c)
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            return h
    raise ArithmeticError(f"incomplete beta: no convergence at x={x}, a={a}, b={b}")


def t_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return regularized_beta(df / (df + t * t), df / 2, 0.5)


def t_density(x: float, df: float) -> float:
    """Student's t density, Gamma((df + 1) / 2) / (sqrt(df pi) Gamma(df / 2))
    * (1 + x^2 / df)^(-(df + 1) / 2), the gammas through math.lgamma."""
    log_scale = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - math.log(df * math.pi) / 2
    return math.exp(log_scale - (df + 1) / 2 * math.log1p(x * x / df))


def t_two_sided_by_simpson(t: float, df: float, steps: int = 20_000) -> float:
    """The same tail another way, to check the first: 1 - 2 * (the integral of
    the density from 0 to |t|), Simpson's rule on ``steps`` (even) intervals.
    Accurate to about 1e-12 for moderate t; not for p far below that."""
    h = abs(t) / steps
    inner = sum((4 if k % 2 else 2) * t_density(k * h, df) for k in range(1, steps))
    return 1 - 2 * h / 3 * (t_density(0.0, df) + inner + t_density(abs(t), df))


@dataclass(frozen=True)
class Welch:
    t: float
    df: float
    p: float


def welch(a: Sequence[float], b: Sequence[float], extra: float = 0.0) -> Welch:
    """Welch's two-sided t-test of mean(b) - mean(a): t = diff / sqrt(va + vb
    + extra) with va = var(a) / n_a (n - 1 in the variance), and the
    Welch-Satterthwaite df = (va + vb)^2 / (va^2 / (n_a - 1) + vb^2 / (n_b - 1)).
    ``extra`` is a variance added to the difference's; it leaves df alone.
    Both sides without spread: the difference is all there is, p = 1 when it
    is nil and 0 otherwise."""
    va = statistics.variance(a) / len(a)
    vb = statistics.variance(b) / len(b)
    diff = statistics.fmean(b) - statistics.fmean(a)
    if va + vb == 0:
        return Welch(math.copysign(math.inf, diff) if diff else 0.0, math.nan,
                     1.0 if diff == 0 else 0.0)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    t = diff / math.sqrt(va + vb + extra)
    return Welch(t, df, t_two_sided(t, df))


def log_slowness(medians: Sequence[float], better: str) -> list[float]:
    """Round medians as logs signed so that larger is worse."""
    return [math.log(m) if better == "lower" else -math.log(m) for m in medians]


Series = tuple[Sequence[float], Sequence[float]]  # (start seconds, log slowness) per round


@dataclass(frozen=True)
class DriftFit:
    slope: float  # log slowness per second
    se: float  # its standard error
    gap: float  # mean over metrics of mean(t_b) - mean(t_a), seconds

    @property
    def over_gap(self) -> float:
        """The change the drift makes over the gap: exp(slope * gap) - 1."""
        return math.exp(self.slope * self.gap) - 1


def drift_fit(pairs: Sequence[tuple[Series, Series]]) -> DriftFit:
    """One least-squares slope of y against t shared by every series (each
    metric's baseline and other side), each series centred on its own means:
    slope = sum (t - mean t)(y - mean y) / sum (t - mean t)^2 over every round
    of every series.  Its standard error is sqrt(rss / dof / sxx), with the
    residual sum of squares about the fitted lines and dof = rounds - series
    - 1 (one level per series, one slope); infinite when dof < 1."""
    sxx = sxy = 0.0
    centred = []
    for series in (s for pair in pairs for s in pair):
        ts, ys = series
        mt, my = statistics.fmean(ts), statistics.fmean(ys)
        dt = [t - mt for t in ts]
        dy = [y - my for y in ys]
        centred.append((dt, dy))
        sxx += sum(x * x for x in dt)
        sxy += sum(x * y for x, y in zip(dt, dy))
    slope = sxy / sxx if sxx > 0 else 0.0
    rss = sum((y - slope * x) ** 2 for dt, dy in centred for x, y in zip(dt, dy))
    dof = sum(len(dt) for dt, _ in centred) - len(centred) - 1
    se = math.sqrt(rss / dof / sxx) if dof > 0 and sxx > 0 else math.inf
    gap = statistics.fmean([statistics.fmean(b[0]) - statistics.fmean(a[0]) for a, b in pairs])
    return DriftFit(slope, se, gap)


def drift_welch(base: Series, other: Series, fit: DriftFit) -> Welch:
    """Welch's test on y - slope * t of both sides, the slope's own
    uncertainty over the gap, (gap * se)^2, added to the difference's
    variance; with too few rounds to fit a slope (se infinite), p = 1."""
    if math.isinf(fit.se):
        return Welch(0.0, math.nan, 1.0)
    a = [y - fit.slope * t for t, y in zip(*base)]
    b = [y - fit.slope * t for t, y in zip(*other)]
    return welch(a, b, (fit.gap * fit.se) ** 2)
