"""The comparison rules: from the statistics to a verdict, a badge and a tier.

The rules are docs/formats.md's "Comparison rules", in the order given there;
the numbers they judge come from :mod:`reportgen.analyse.stats`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from reportgen.analyse import stats
from reportgen.core import figures
from reportgen.core.model import Better, Metric, Round, Thresholds
from reportgen.core.stability import CV_LIMIT, stability

# What a comparison concludes; analysis.json carries these words as they are.
Verdict = Literal["same", "inconclusive", "worse", "better", "not-comparable"]


VERDICTS: tuple[Verdict, ...] = ("same", "inconclusive", "worse", "better", "not-comparable")


# Verdicts that sit outside the tiers: they are neither fine nor a cost.
UNTIERED: tuple[Verdict, ...] = ("inconclusive", "not-comparable")


# The rule that made a comparison inconclusive, in the order judge() tries them:
# too few rounds, the drift, samples that vary too much, a p-value too high, or
# a median inside the band with an interval that reaches past it.
Rule = Literal["", "rounds", "drift", "noise", "p", "band"]
RULES: tuple[Rule, ...] = ("rounds", "drift", "noise", "p", "band")


class Decision(NamedTuple):
    """What judge() decides: the verdict, and for inconclusive the rule and the reason."""

    verdict: Verdict
    rule: Rule = ""
    reason: str = ""


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
    reason: str = ""  # why, for inconclusive and not-comparable, in words
    rule: Rule = ""  # which rule made it inconclusive (RULES), for summaries of several
    rounds: tuple[int, int] = (1, 1)  # rounds of the baseline and of env
    samples: tuple[int, int] = (0, 0)  # samples of the baseline and of env
    cv: float = 0.0  # the larger coefficient of variation of the two sides' samples
    tests: int = 1  # comparisons whose p-values were adjusted together with this one
    # The bootstrap draws the interval came from (empty without an interval),
    # kept so the headline combines them rather than drawing them again.
    draws: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0),
                                           compare=False, repr=False)


# The rules of docs/formats.md, "Comparison rules"; each constant is cited there.
MIN_ROUNDS = 5  # rounds per side before anything but "inconclusive" is said
ALPHA = 0.05  # significance level of the test on round medians
INCONCLUSIVE_BADGE = "?"  # "~" is taken: "~4x" means "about 4x"


def change_interval(interval: tuple[float, float], better: Better) -> tuple[float, float]:
    """An interval of the slowdown as the change of the median in the metric's
    own direction (time +8%, throughput -36%)."""
    low, high = interval
    return (low - 1, high - 1) if better == "lower" else (1 / high - 1, 1 / low - 1)


def judge(change: float, interval: tuple[float, float] | None, p: float | None,
          rounds: tuple[int, int], cv: float, better: Better, band: float,
          drift: Drifted | None = None, tests: int = 1) -> Decision:
    """The verdict and, for inconclusive, the rule and why in words; first
    matching rule wins.  ``drift`` is given when the two sides were measured
    one after the other: the machine's drift and the adjusted p-value of the
    test with the drift taken out, which a difference must pass too; ``tests``
    is how many p-values ``p`` was adjusted together with."""
    fewest = min(rounds)
    if fewest < MIN_ROUNDS:
        return Decision("inconclusive", "rounds", rounds_reason(fewest))
    if interval is not None:
        low, high = change_interval(interval, better)
        if -band < low and high < band:
            return Decision("same")
    if p is not None and p < ALPHA and abs(change) >= band:
        if drift is not None and not _beyond_drift(change, better, *drift):
            return Decision("inconclusive", "drift", drift_reason(drift[0], drift[1]))
        return Decision("worse" if (change > 0) == (better == "lower") else "better")
    significant = p is not None and p < ALPHA
    # An interval that excludes 1x beside `?` needs the test's word on it first.
    if not significant and interval is not None and (interval[0] > 1 or interval[1] < 1):
        return Decision("inconclusive", "p", p_reason(p, tests, interval))
    if cv >= CV_LIMIT:
        return Decision("inconclusive", "noise", noise_reason(cv))
    if not significant:
        return Decision("inconclusive", "p", p_reason(p, tests, interval))
    return Decision("inconclusive", "band",
                    f"the change is within {figures.band(band)} but its interval reaches past it")


def rounds_reason(fewest: int) -> str:
    """``3 rounds, need >= 5``."""
    return f"{fewest} round{'' if fewest == 1 else 's'}, need >= {MIN_ROUNDS}"


def noise_reason(cv: float) -> str:
    """``samples vary by 26%: the difference is within the noise``."""
    return f"samples vary by {round(cv * 100)}%: the difference is within the noise"


def adjusted(p: float | None, tests: int) -> str:
    """``p = 0.16 after adjusting for 10 metrics``; the bare p-value for one test."""
    return figures.p_is(p) + (f" after adjusting for {tests} metrics" if tests > 1 else "")


def p_reason(p: float | None, tests: int, interval: tuple[float, float] | None) -> str:
    """Why a p-value does not make a difference; when the interval excludes
    1x, why that is not enough: the interval is one metric's, the p-value
    allows for the report testing every metric at once."""
    excludes = interval is not None and (interval[0] > 1 or interval[1] < 1)
    text = f"{adjusted(p, tests)}, need < {ALPHA}"
    return f"interval excludes 1x but {text}" if excludes else text


# When two sides were measured one after the other: the machine's drift, and
# the adjusted p-value of the test on the rounds with that drift taken out.
Drifted = tuple[stats.Drift, float | None]


def _beyond_drift(change: float, better: Better, drift: stats.Drift, p: float | None) -> bool:
    """Whether a difference stands once the drift is taken out: significant,
    and still pointing the same way (slowness is log s, drift slope x gap)."""
    slowness = math.log1p(change) if better == "lower" else -math.log1p(change)
    return p is not None and p < ALPHA and \
        (slowness > 0) == (slowness - drift.slope * drift.gap > 0)


def drift_reason(drift: stats.Drift, p: float | None) -> str:
    """Why a difference measured one after the other is not called one."""
    return (f"measured one after the other, and the machine drifted "
            f"{figures.percent(drift.over_gap)} from one side to the other: allowing "
            f"for that, {figures.p_is(p)}")


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
            noise: float | None = None, p: float | None | Literal["raw"] = "raw",
            drift: Drifted | None = None, tests: int = 1) -> Comparison:
    """Compare one metric of ``env`` with the baseline's.  ``noise`` is the
    metric's noise band when an A/A run widened it (default: thresholds.noise);
    ``p`` is the p-value adjusted for the report's other comparisons
    (:func:`stats.adjusted_p_values`), by default this comparison's own;
    ``drift``, for sides measured one after the other, the drift and the
    adjusted p-value of the test that takes it out (see :func:`judge`);
    ``tests``, how many p-values ``p`` was adjusted together with."""
    base_median, value = stats.median(base.samples), stats.median(other.samples)
    s = stats.slowdown(base_median, value, base.better)
    change = value / base_median - 1
    draws = stats.interval_draws(base, other, stats.seed(base.id, env))
    interval = stats.percentile_interval(draws) if draws.size else None
    if p == "raw":
        p, tests = stats.p_value(base, other), 1  # its own, adjusted for nothing
    rounds = (len(set(base.round_numbers)), len(set(other.round_numbers)))
    cv = max(stability(base.samples).cv, stability(other.samples).cv)
    band = thresholds.noise if noise is None else noise
    verdict, rule, reason = judge(change, interval, p, rounds, cv, base.better, band, drift,
                                  tests)
    text = label(verdict, s, change, env, thresholds)
    level = verdict if verdict in UNTIERED else tier(s, verdict != "worse", thresholds)
    return Comparison(base.id, env, base.unit, base.better, base_median, value, s, change,
                      interval, text, level, verdict, p, reason, rule, rounds,
                      (len(base.samples), len(other.samples)), cv, tests, draws)


@dataclass(frozen=True)
class NoiseFloor:
    """What an A/A run (one environment measured twice) says about a metric."""

    change: float  # b's median against a's, in the metric's own direction
    interval: tuple[float, float] | None  # 95% interval of that change
    band: float  # the metric's noise band: the smallest change called a difference


def noise_floor(a: Metric, b: Metric, thresholds: Thresholds) -> NoiseFloor:
    """The band is the farther end of the A/A interval of the change, when
    that lies beyond ``thresholds.noise``."""
    found = stats.bootstrap_interval(a, b, stats.seed(a.id, "noise"))
    interval = change_interval(found, a.better) if found else None
    band = max(thresholds.noise, -interval[0], interval[1]) if interval else thresholds.noise
    return NoiseFloor(stats.median(b.samples) / stats.median(a.samples) - 1, interval, band)


def sequential(a: Sequence[Round], b: Sequence[Round]) -> bool:
    """True when every round of one side started before the first round of
    the other: measured one after the other, not in alternation, so slow
    drift of the machine is not controlled.  False when a start time is
    missing or unreadable (nothing can be said)."""
    times_a, times_b = _starts(a), _starts(b)
    if not times_a or not times_b:
        return False
    return max(times_a) < min(times_b) or max(times_b) < min(times_a)


def start_seconds(rounds: Sequence[Round], origin: dt.datetime) -> dict[int, float]:
    """Each round's start in seconds after ``origin``, by round number."""
    return {r.number: (when - origin).total_seconds() for r, when in zip(rounds, _starts(rounds))}


def first_start(rounds: Sequence[Round]) -> dt.datetime | None:
    """When the earliest round started; None when a start time is unreadable."""
    return min(_starts(rounds), default=None)


def _starts(rounds: Sequence[Round]) -> list[dt.datetime]:
    try:
        return [dt.datetime.fromisoformat(r.started_at.replace("Z", "+00:00")) for r in rounds]
    except ValueError:
        return []


NOT_COMPARABLE_LABEL = "not comparable"


def not_comparable(base: Metric, other: Metric, env: str, reason: str) -> Comparison:
    """A comparison refused because ``env`` measured the metric differently:
    no slowdown, no change, no interval (NaN and None), outside the tiers."""
    nan = math.nan
    return Comparison(base.id, env, base.unit, base.better, stats.median(base.samples),
                      stats.median(other.samples), nan, nan, None, NOT_COMPARABLE_LABEL,
                      "not-comparable", "not-comparable", reason=reason,
                      rounds=(len(set(base.round_numbers)), len(set(other.round_numbers))),
                      samples=(len(base.samples), len(other.samples)))


def field_text(c: Comparison, field: str) -> str:
    """A comparison field as a placeholder gives it (docs/formats.md, Placeholders)."""
    if c.verdict == "not-comparable" and field not in ("label", "tier"):
        return "n/a"  # measured differently: there is no figure to give
    return {
        "ratio": lambda: figures.ratio(c.slowdown),
        "delta": lambda: figures.signed_quantity(c.median - c.base_median, c.unit),
        "change": lambda: figures.percent(c.change),
        "label": lambda: c.label,
        "tier": lambda: c.tier,
        "interval": lambda: figures.interval(c.interval) or "n/a",
    }[field]()
