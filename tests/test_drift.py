"""The drift rule (docs/formats.md, "Comparison rules"): when two environments
were measured one after the other, a difference must also pass a test with
the machine's drift taken out: one least-squares slope of the log round
medians against start time, shared by every metric and both sides, each
series about its own mean; Welch's test on y - slope * t with (gap * se)^2
added to the difference's variance.  Expected values are worked by hand or
by tests/independent.py, which shares no code with reportgen."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from reportgen.analyse import stats
from reportgen.analyse.analysis import analyse
from reportgen.core.model import Better, Environment, Metric, Report, Round
from tests import independent
from tests.factories import environment, in_rounds, report
from tests.recompute import benjamini_hochberg


def rounds(values: list[float], metric_id: str = "m", better: Better = "lower") -> Metric:
    """One sample per round."""
    return in_rounds(metric_id, values, better)


def logs(values: Sequence[float]) -> list[float]:
    return [math.log(v) for v in values]


def starting(*seconds: float) -> tuple[Round, ...]:
    """Rounds 1, 2, ... started ``seconds`` after 10:00 on 2026-01-01."""
    origin = dt.datetime(2026, 1, 1, 10, tzinfo=dt.timezone.utc)
    return tuple(Round(n, (origin + dt.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ"))
                 for n, s in enumerate(seconds, start=1))


U = math.log(1.01)  # the log of 1% slower
# Each wobble sums to 0 and to 0 against the rounds' places -2 -1 0 1 2 in
# their side: it moves neither a side's mean nor its slope, only its spread.
# 0.003 e stays within the 0.00995 between rounds, so the rounds keep their
# order and the median is the middle round, e = 0: the medians of the two
# sides are 1.01^2 and 1.01^7 times the level, 1.01^5 - 1 = +5.1% apart.
WOBBLES = ([1, -1, 0, -1, 1], [-1, 1, 0, 1, -1], [1, -2, 0, 2, -1], [-1, 2, 0, -2, 1])
DRIFTING: tuple[tuple[str, float, Better], ...] = (
    ("a", 100.0, "lower"), ("b", 46.0, "lower"), ("c", 413.0, "higher"),
    ("d", 87.0, "lower"))
NATIVE_STARTS = (0, 600, 1200, 1800, 2400)  # round k of ten starts at 600 k seconds
GUEST_STARTS = (3000, 3600, 4200, 4800, 5400)
DRIFTED = ("measured one after the other, and the machine drifted +5% from one side to "
           "the other: allowing for that, p = 1.00")


def drifting(metric_id: str, level: float, better: Better, first: int, wobble: list[int],
             times: float = 1.0) -> Metric:
    """Five rounds, k = first .. first + 4, of a machine 1% slower each round
    than the last: level * 1.01^k * exp(0.003 e) for the wobble e (divided
    where higher is better); ``times`` the true slowdown of this side."""
    slower = [times * math.exp(U * k + 0.003 * e) for k, e in zip(range(first, first + 5), wobble)]
    return rounds([level * s if better == "lower" else level / s for s in slower],
                  metric_id, better)


def slowness(m: Metric) -> list[float]:
    """The log slowness of a metric of one sample per round, worked again."""
    return independent.log_slowness(m.samples, m.better)


def drifting_report(native_starts: Sequence[float], guest_starts: Sequence[float],
                    times: dict[str, float] | None = None) -> Report:
    """Native measured in rounds 0..4 of the drifting machine, guest in 5..9,
    every metric the same on both but for ``times``."""
    native = [drifting(m, level, better, 0, WOBBLES[i])
              for i, (m, level, better) in enumerate(DRIFTING)]
    guest = [drifting(m, level, better, 5, WOBBLES[(i + 1) % 4], (times or {}).get(m, 1.0))
             for i, (m, level, better) in enumerate(DRIFTING)]
    return report(replace(environment("native", *native), rounds=starting(*native_starts)),
                  replace(environment("guest", *guest), rounds=starting(*guest_starts)))


def test_drift_alone_is_not_called_a_difference() -> None:
    """Every metric 1% slower each round, nothing else between the sides.
    By hand: within each side y = const + u k + 0.003 e with k = t / 600, and
    the wobble e is orthogonal to t, so the shared slope is exactly u / 600
    per second; y - slope * t leaves each series its level plus the wobble,
    whose mean is nil: both sides' corrected means are the metric's level,
    t = 0 and p = 1 (1 after the adjustment too).  The drift over the gap of
    3000 s is exp(5 u) - 1 = 1.01^5 - 1 = +5.1%: each median is 5.1% worse,
    past the 3% band, so the reason names the drift."""
    sequential = drifting_report(NATIVE_STARTS, GUEST_STARTS)
    native, guest = sequential.environments
    fit = independent.drift_fit([((NATIVE_STARTS, slowness(native.metrics[m])),
                                  (GUEST_STARTS, slowness(guest.metrics[m])))
                                 for m, _, _ in DRIFTING])
    assert fit.slope == pytest.approx(U / 600, rel=1e-9) and fit.gap == 3000
    assert fit.over_gap == pytest.approx(1.01 ** 5 - 1, rel=1e-9)
    corrected = analyse(sequential)
    assert [(c.metric_id, c.verdict, c.label, c.reason) for c in corrected.comparisons] == [
        (m, "inconclusive", "?", DRIFTED) for m, _, _ in DRIFTING]
    # The rank test alone finds each metric: five rounds above five, 2/252.
    assert [c.p_value for c in corrected.comparisons] == pytest.approx([2 / 252] * 4)
    assert [corrected.p_values[f"{m}/guest/drift"] for m, _, _ in DRIFTING] == \
        pytest.approx([1.0] * 4)
    assert len(corrected.notes) == 1 and "one after the other" in corrected.notes[0]
    # The same samples without start times: nothing places the rounds in
    # time, and the plain test calls every metric worse, 5.1% apart.
    plain = analyse(drifting_report((), ()))
    assert [(c.verdict, c.label) for c in plain.comparisons] == [
        ("worse", "+5%"), ("worse", "+5%"), ("worse", "-5%"), ("worse", "+5%")]


def test_a_large_difference_survives_the_drift() -> None:
    """fork+wait 66x slower on top of the drift: the slope is the same (each
    series is about its own mean), the corrected difference is log 66 against
    a spread of 0.003 e: worse, and the others stay explained by the drift.
    The slowdown is still the ratio of the medians, drift and all:
    66 * 1.01^5 = 69.4, ~69x."""
    result = analyse(drifting_report(NATIVE_STARTS, GUEST_STARTS, {"d": 66.0}))
    by_metric = {c.metric_id: c for c in result.comparisons}
    fork = by_metric["d"]
    assert (fork.verdict, fork.label, fork.reason) == ("worse", "~69x", "")
    assert fork.slowdown == pytest.approx(66 * 1.01 ** 5, rel=1e-12)
    assert result.p_values["d/guest/drift"] < 1e-6
    assert [(c.verdict, c.reason) for m, c in by_metric.items() if m != "d"] == [
        ("inconclusive", DRIFTED)] * 3


def test_alternated_rounds_keep_the_plain_test() -> None:
    """The same samples with native and guest rounds in alternation: the
    drift is controlled by design, so no fit, no drift test and no drift
    reason; each p is the rank test's 2/252 (five rounds above five)."""
    alternated = drifting_report((0, 1200, 2400, 3600, 4800), (600, 1800, 3000, 4200, 5400))
    result = analyse(alternated)
    assert result.notes == ()
    assert [(c.verdict, c.label, c.reason) for c in result.comparisons] == [
        ("worse", "+5%", ""), ("worse", "+5%", ""), ("worse", "-5%", ""), ("worse", "+5%", "")]
    assert [c.p_value for c in result.comparisons] == pytest.approx([2 / 252] * 4)
    assert not any(name.endswith("/drift") for name in result.p_values)


# A fit small enough to do by hand: two metrics, three rounds a side, the
# baseline's at t = 0 1 2 s and the other's at 10 11 12 s.  Centred, every
# series has t - mean t = -1 0 1, so sum (t - mean t)(y - mean y) = y3 - y1.
TINY = {  # metric: (baseline y, other y)
    "m1": ([0.0, 1.0, 5.0], [3.0, 3.0, 4.0]),  # y3 - y1: 5 and 1
    "m2": ([2.0, 0.0, 1.0], [1.0, 2.0, 3.0]),  # -1 and 2
}
TINY_TIMES = ([0.0, 1.0, 2.0], [10.0, 11.0, 12.0])


def test_drift_slope_worked_by_hand() -> None:
    """slope = (5 + 1 - 1 + 2) / (4 * 2) = 7/8.  Residuals about each series'
    line, y - mean y - 7/8 (t - mean t):
    m1 base  -2 -1 3       -> -9/8 -1 17/8,    squares 217/32
    m1 other -1/3 -1/3 2/3 -> 13/24 -1/3 -5/24, squares 258/576 = 43/96
    m2 base  1 -1 0        -> 15/8 -1 -7/8,    squares 169/32
    m2 other -1 0 1        -> -1/8 0 1/8,      squares 1/32
    rss = 387/32 + 43/96 = 301/24 on 12 rounds - 4 levels - 1 slope = 7 df;
    se = sqrt(301/24 / 7 / 8) = sqrt(301/1344) = 0.473; gap = 11 - 1 = 10 s."""
    pairs = [((np.array(TINY_TIMES[0]), np.array(a)), (np.array(TINY_TIMES[1]), np.array(b)))
             for a, b in TINY.values()]
    fit = stats.drift(pairs)
    assert (fit.slope, fit.se, fit.gap) == pytest.approx((7 / 8, math.sqrt(301 / 1344), 10.0),
                                                         rel=1e-12)
    assert fit.over_gap == pytest.approx(math.exp(8.75) - 1, rel=1e-12)
    # m1 with the drift taken out, y - 7/8 t: base 0 1/8 13/4 (mean 9/8),
    # other -23/4 -53/8 -13/2 (mean -151/24); difference -178/24 = -89/12.
    # va = (217/32 / 2) / 3 = 217/192, vb = (43/96 / 2) / 3 = 43/576; the
    # slope's uncertainty over the gap (10 se)^2 = 100 * 301/1344 = 7525/336:
    # t = -(89/12) / sqrt(217/192 + 43/576 + 7525/336) = -1.527 and
    # df = (217/192 + 43/576)^2 / ((217/192)^2 / 2 + (43/576)^2 / 2) = 2.263.
    va, vb, extra = 217 / 192, 43 / 576, 7525 / 336
    t = -(89 / 12) / math.sqrt(va + vb + extra)
    df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 2)
    assert (t, df) == pytest.approx((-1.5267, 2.2631), abs=5e-5)
    p = stats.drift_p_value(*pairs[0], fit)
    assert p == pytest.approx(independent.t_two_sided(t, df), rel=1e-9)
    assert p == pytest.approx(0.2522, abs=5e-5)
    # tests/independent.py's fit agrees, series by series
    mine = independent.drift_fit([((TINY_TIMES[0], a), (TINY_TIMES[1], b))
                                  for a, b in TINY.values()])
    assert (mine.slope, mine.se, mine.gap) == pytest.approx((fit.slope, fit.se, fit.gap),
                                                            rel=1e-12)


def test_drift_in_a_report_is_tested_as_worked_by_hand() -> None:
    """The tiny fit as a report: values exp(y / 100), m2 higher-is-better so
    its values are exp(-y / 100) (its log slowness is y / 100 again).  The
    analysis places the rounds by their start times, fits the slope over
    both metrics and adjusts both p-values together; three rounds a side
    are too few for a verdict, but the p-values are there to compare."""
    def side(label: str, index: int) -> Environment:
        m1 = rounds([math.exp(y / 100) for y in TINY["m1"][index]], "m1")
        m2 = rounds([math.exp(-y / 100) for y in TINY["m2"][index]], "m2", "higher")
        return replace(environment(label, m1, m2), rounds=starting(*TINY_TIMES[index]))

    result = analyse(report(side("native", 0), side("guest", 1)))
    fit = independent.drift_fit([((TINY_TIMES[0], [y / 100 for y in a]),
                                  (TINY_TIMES[1], [y / 100 for y in b]))
                                 for a, b in TINY.values()])
    assert fit.slope == pytest.approx(7 / 800, rel=1e-9)
    raw = {m: independent.drift_welch((TINY_TIMES[0], [y / 100 for y in a]),
                                      (TINY_TIMES[1], [y / 100 for y in b]), fit).p
           for m, (a, b) in TINY.items()}
    expected = benjamini_hochberg(raw)
    assert {m: result.p_values[f"{m}/guest/drift"] for m in TINY} == pytest.approx(expected,
                                                                                  rel=1e-9)
    assert [c.reason for c in result.comparisons] == ["3 rounds, need >= 5"] * 2


# Two cases where the variances of both sides are (nearly) nothing: the
# drift-corrected test must still weigh the slope's own uncertainty, and
# treat rounding error as no spread.

def test_drift_that_explains_every_round_exactly_is_not_a_difference() -> None:
    """Rounds 12 * 1.01^k, k = 0..4 then 5..9, nothing else: the rank test
    finds the sides apart (2/252), but the drift explains every round:
    y - slope * t is the same on both sides, p = 1.  The residuals are
    rounding errors (1e-17) that Welch would divide by each other (p =
    0.016, which would let the difference stand)."""
    values = [12 * 1.01 ** k for k in range(10)]
    result = analyse(report(
        replace(environment("native", rounds(values[:5])), rounds=starting(*NATIVE_STARTS)),
        replace(environment("guest", rounds(values[5:])), rounds=starting(*GUEST_STARTS))))
    (c,) = result.comparisons
    assert (c.verdict, c.reason) == ("inconclusive", DRIFTED)


def test_the_slopes_uncertainty_counts_when_a_metric_has_no_spread() -> None:
    """a is steady at 100 then 104; b scatters without a trend (slope 0) but
    so widely that the slope's standard error over the 3000 s gap is 0.147
    in log units: a's 4% step could be drift, t = log 1.04 / 0.147 = 0.27.
    Returning p = 0 because both sides are without spread, before that
    uncertainty is added, would call a worse."""
    scatter = [100.0, 130.0, 70.0, 130.0, 100.0]
    native = environment("native", rounds([100] * 5, "a"), rounds(scatter, "b"))
    guest = environment("guest", rounds([104] * 5, "a"), rounds(scatter, "b"))
    result = analyse(report(replace(native, rounds=starting(*NATIVE_STARTS)),
                            replace(guest, rounds=starting(*GUEST_STARTS))))
    fit = independent.drift_fit([((NATIVE_STARTS, logs([100] * 5)), (GUEST_STARTS, logs([104] * 5))),
                                 ((NATIVE_STARTS, logs(scatter)), (GUEST_STARTS, logs(scatter)))])
    assert fit.slope == 0 and fit.gap * fit.se == pytest.approx(0.147, abs=5e-4)
    a = next(c for c in result.comparisons if c.metric_id == "a")
    assert result.p_values["a/guest/drift"] > 0.05
    assert a.verdict == "inconclusive"
