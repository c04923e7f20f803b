"""The comparison rules of docs/formats.md, including their boundaries."""

from __future__ import annotations

import math
import random

import pytest

from reportgen.analyse import compare, stats, wording
from reportgen.analyse.analysis import analyse
from reportgen.core.model import ConclusionItem, Metric, Section, SectionMetric, Thresholds
from tests import independent
from tests.factories import environment, metric, report, text

T = Thresholds()
FIVE = (1, 2, 3, 4, 5)


def steady(metric_id: str, value: float, better: str = "lower", unit: str = "ns") -> Metric:
    """A metric measured in five rounds that all gave ``value``: enough
    rounds for a verdict, and no spread to blur the rule under test."""
    return metric(metric_id, [value] * 5, better, unit, rounds=FIVE)  # type: ignore[arg-type]


def label_of(base: float, value: float, better: str = "lower") -> str:
    return compare.compare(steady("m", base, better), steady("m", value, better), "guest", T).label


@pytest.mark.parametrize(("base", "value", "better", "expected"), [
    (46, 182, "lower", "~4x"),          # getpid
    (87, 5728, "lower", "~66x"),        # fork+wait
    (413, 22, "higher", "~19x"),        # fsync throughput
    (100, 108, "lower", "+8%"),         # time up 8%
    (100, 64, "higher", "-36%"),        # throughput down 36%
    (100, 41, "higher", "-59%"),        # slowdown 2.44: still a percentage
    (100, 106, "higher", "guest faster"),
    (100, 90, "lower", "guest faster"),
    (100, 99.4, "higher", "same"),
])
def test_seed_labels(base: float, value: float, better: str, expected: str) -> None:
    assert label_of(base, value, better) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (102.9, "same"), (103.1, "+3%"), (97.1, "same"), (96.9, "guest faster"),
])
def test_noise_boundary_is_three_percent(value: float, expected: str) -> None:
    assert label_of(100, value) == expected


@pytest.mark.parametrize(("value", "expected"), [(299, "+199%"), (300, "~3x"), (349, "~3x"),
                                                 (351, "~4x")])
def test_multiplier_boundary(value: float, expected: str) -> None:
    assert label_of(100, value) == expected


def test_higher_is_better_multiplier_uses_slowdown() -> None:
    assert label_of(100, 34, "higher") == "-66%"   # slowdown 2.94
    assert label_of(100, 33, "higher") == "~3x"    # slowdown 3.03


@pytest.mark.parametrize(("s", "expected"), [
    (1.0, "negligible"), (1.149, "negligible"), (1.15, "moderate"), (9.99, "moderate"),
    (10.0, "severe"), (66.0, "severe"),
])
def test_tier_boundaries(s: float, expected: str) -> None:
    assert compare.tier(s, False, T) == expected


def test_neutral_results_are_negligible_whatever_the_ratio() -> None:
    assert compare.tier(2.0, True, T) == "negligible"


def test_custom_thresholds() -> None:
    custom = Thresholds(moderate=1.05, severe=2.0, noise=0.01, multiplier=1.5)
    assert compare.tier(1.06, False, custom) == "moderate"
    assert compare.tier(2.0, False, custom) == "severe"
    assert compare.label("worse", 1.02, 0.02, "vm", custom) == "+2%"
    assert compare.label("worse", 1.6, 0.6, "vm", custom) == "~2x"


def test_slowdown_direction() -> None:
    assert stats.slowdown(46, 182, "lower") == pytest.approx(3.9565, rel=1e-4)
    assert stats.slowdown(413, 22, "higher") == pytest.approx(18.7727, rel=1e-4)


@pytest.mark.parametrize(("bad", "message"), [
    (0.0, "values must be positive to be compared, got 0.0"),
    (-3.0, "values must be positive to be compared, got -3.0"),
    (math.nan, "not a finite number: nan"),
    (math.inf, "not a finite number: inf"),
])
def test_invalid_values_are_refused_clearly(bad: float, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        stats.slowdown(10.0, bad, "lower")
    with pytest.raises(ValueError, match=f"^{message}$"):
        stats.median([1.0, bad, 2.0])


def test_median_needs_samples() -> None:
    with pytest.raises(ValueError, match="^no samples$"):
        stats.median([])


def test_interval_needs_three_samples_each_side() -> None:
    assert stats.bootstrap_interval(metric("m", [1, 2]), metric("m", [1, 2, 3]), 1) is None
    low, high = stats.bootstrap_interval(metric("m", [10, 10.1, 9.9]),
                                           metric("m", [20, 20.2, 19.8]), 1) or (0, 0)
    assert 1.9 < low <= 2.0 <= high < 2.1


def test_interval_is_deterministic() -> None:
    a = stats.bootstrap_interval(metric("m", [1, 2, 3, 4]), metric("m", [2, 3, 4, 5]), 42)
    assert a == stats.bootstrap_interval(metric("m", [1, 2, 3, 4]), metric("m", [2, 3, 4, 5]),
                                           42)


def test_interval_of_single_sample_rounds_worked_by_hand() -> None:
    """A steady baseline (100) against five rounds of one sample: a resample's
    median is its 3rd smallest of five values drawn from 90..110, so it is 90
    when three or more draws are 90: (10 * 4**2 + 5 * 4 + 1) / 5**5 = 181/3125,
    5.8% of draws, about 116 of 2000, and 110 as often.  The 2.5% point of 2000
    draws interpolates between the 50th and 51st smallest, both 0.90 unless
    no more than 50 draws are (binomial, 6 standard deviations below 116): the
    interval is the range of the rounds, exactly."""
    base = metric("m", [100] * 5, rounds=FIVE)
    assert stats.bootstrap_interval(base, metric("m", [95, 110, 90, 105, 100], rounds=FIVE),
                                      stats.seed("m", "vm")) == pytest.approx((0.90, 1.10))


def test_draws_with_even_resamples_worked_by_hand() -> None:
    """Two rounds of 90 and 110 against a steady 100: whichever rounds are
    drawn, a resample is four fair picks of 90 or 110, and its median, the
    mean of the 2nd and 3rd smallest, is 90 when three or four picks are 90
    (5 of 16 ways), 110 as often, and 100 otherwise (6 of 16).  Each share of
    2000 draws is within 4 binomial standard deviations (about 0.04) of it."""
    base = metric("m", [100] * 5, rounds=FIVE)
    draws = stats.slowdown_draws(base, metric("m", [90, 110, 110, 90], rounds=(1, 1, 2, 2)), 5)
    assert sorted(set(draws.round(9))) == [0.9, 1.0, 1.1]
    for value, share in ((0.9, 5 / 16), (1.0, 6 / 16), (1.1, 5 / 16)):
        sigma = math.sqrt(share * (1 - share) / len(draws))
        assert abs(float((draws.round(9) == value).mean()) - share) < 4 * sigma, value


# Uneven rounds: the baseline has three, of one, three and five samples (so
# every resample of it has an odd size), the other six, of one to five.  The
# rounds lie apart and their samples close together, as in a noisy machine.
UNEVEN_BASE = [[10.0], [9.0, 9.1, 8.9], [11.0, 11.2, 10.9, 11.1, 10.8]]
UNEVEN_OTHER = [[12.0, 12.1, 11.9], [15.0], [11.0, 11.1], [13.0, 13.2, 12.9, 13.1],
                [14.0, 14.1], [12.5, 12.4, 12.6, 12.3, 12.7]]


def test_interval_agrees_with_an_independent_two_level_bootstrap() -> None:
    """stats.bootstrap_interval against the plain-Python bootstrap of
    tests/independent.py: its own generator and 20000 draws; each end within
    the Monte-Carlo tolerance of the reference's 2.5% and 97.5% points, and
    the quartiles of stats.slowdown_draws within theirs (which a wrong
    size of a drawn round, at the ends, would not show).  The samples are
    listed round by round in turn, as alternating rounds would give them."""
    def shuffled(rounds: list[list[float]]) -> Metric:
        pairs = [(r[i], n) for i in range(max(map(len, rounds)))
                 for n, r in enumerate(rounds, start=1) if i < len(r)]
        return metric("m", [x for x, _ in pairs], rounds=tuple(n for _, n in pairs))

    found = stats.bootstrap_interval(shuffled(UNEVEN_BASE), shuffled(UNEVEN_OTHER), 11)
    assert found is not None
    draws = independent.slowdown_draws(UNEVEN_BASE, UNEVEN_OTHER, "lower",
                                       independent.REFERENCE_RESAMPLES, random.Random(11))
    for end, level in zip(found, (0.025, 0.975)):
        lowest, highest = independent.accepted(draws, level, stats.BOOTSTRAP_RESAMPLES)
        assert lowest <= end <= highest, (level, end, lowest, highest)
    mine = stats.slowdown_draws(shuffled(UNEVEN_BASE), shuffled(UNEVEN_OTHER), 11)
    for level in (0.25, 0.5, 0.75):
        lowest, highest = independent.accepted(draws, level, stats.BOOTSTRAP_RESAMPLES)
        assert lowest <= independent.percentile(list(mine), level) <= highest, level


def test_two_level_bootstrap_sees_the_spread_between_rounds() -> None:
    """Tight rounds far apart: resampling rounds widens the interval that a
    one-level bootstrap over the pooled samples would give."""
    base = metric("m", [10 + 0.01 * k for k in range(100)])
    spread = [m + 0.01 * k for m in (9, 9.5, 10, 10.5, 11) for k in range(20)]
    rounds = tuple(r for r in range(1, 6) for _ in range(20))
    one_run = stats.bootstrap_interval(base, metric("m", spread), 7)
    by_round = stats.bootstrap_interval(base, metric("m", spread, rounds=rounds), 7)
    assert one_run is not None and by_round is not None
    assert by_round[0] < 0.9 and by_round[1] > 1.03  # every round median is possible
    assert by_round[1] - by_round[0] > 3 * (one_run[1] - one_run[0])


def test_interval_containing_one_is_inconclusive_not_same() -> None:
    """Rounds that scatter past the band: "cannot tell" is not "no difference"."""
    base = metric("m", [100, 60, 140, 90, 120], rounds=FIVE)
    noisy = compare.compare(base, metric("m", [110, 70, 150, 95, 130], rounds=FIVE), "vm", T)
    assert noisy.change == pytest.approx(0.10)
    assert noisy.interval is not None and noisy.interval[0] < 1 < noisy.interval[1]
    assert (noisy.verdict, noisy.label, noisy.tier) == ("inconclusive", "?", "inconclusive")
    # its p-value, 174/252: test_verdicts, rank test; the larger CV decides first
    assert (noisy.rule, noisy.reason) == (
        "noise", "samples vary by 30%: the difference is within the noise")


def test_compose_and_figure() -> None:
    assert wording.compose([("", "~4x")]) == "~4x"
    assert wording.compose([("write", "-36%"), ("read", "-48%")]) == "-36% write, -48% read"
    cs = [compare.compare(steady("a", 100, "higher"), steady("a", 52, "higher"), "g", T),
          compare.compare(steady("b", 100, "higher"), steady("b", 64, "higher"), "g", T)]
    # Higher is better: -36% and -48% are less throughput, and two metrics
    # make a range that says so, never one that reads as an interval.
    assert wording.figure(cs) == "36% to 48% less throughput across 2 metrics"
    assert wording.figure(cs[:1]) == "48% less throughput"
    assert wording.slowdown_range(cs) == "1.56x to 1.92x slower"


def test_three_environments() -> None:
    native = environment("native", steady("syscall.getpid", 46),
                         steady("disk.write_fsync", 413, "higher", "MB/s"))
    kvm = environment("kvm", steady("syscall.getpid", 92),
                      steady("disk.write_fsync", 405, "higher", "MB/s"))
    bhyve = environment("bhyve", steady("syscall.getpid", 182),
                        steady("disk.write_fsync", 22, "higher", "MB/s"))
    section = Section("Both", (SectionMetric("syscall.getpid", "getpid"),
                               SectionMetric("disk.write_fsync", "fsync")), text())
    rep = report(native, kvm, bhyve, sections=[section],
                 conclusions=[ConclusionItem("I/O", ("disk.write_fsync",), "")])
    result = analyse(rep)
    assert result.sections[0].badge == "kvm: +100% getpid, same fsync; bhyve: ~4x getpid, ~19x fsync"
    assert [(c.env, [(b.tier, [i.figure for i in b.items]) for b in c.blocks])
            for c in result.conclusions] == [
        ("kvm", [("negligible", ["same"])]),
        ("bhyve", [("severe", ["~19x slower"])]),
    ]


def test_failed_metric_shows_na_in_badge() -> None:
    native = environment("native", metric("m", [1, 1, 1]))
    guest = environment("guest", metric("m", [], status="failed", error="no space"))
    assert analyse(report(native, guest)).sections[0].badge == "n/a"


def test_ten_thousand_samples_a_side_stay_fast() -> None:
    """The cap on samples per metric: one comparison measured 0.4-0.5 s of CPU
    on the 2-vCPU development machine; 2 s leaves room for a slower one, while
    the bootstrap before chunking took 3.6 s (wall) for one interval alone."""
    import time

    import numpy as np

    rng = np.random.default_rng(1)
    ten = tuple(np.repeat(np.arange(1, 11), 1000).tolist())
    base = metric("m", rng.normal(100, 3, 10_000).tolist(), rounds=ten)
    other = metric("m", rng.normal(103, 3, 10_000).tolist(), rounds=ten)
    stats.p_value(base, other)  # scipy's import is paid once per build, not per metric
    began = time.process_time()
    c = compare.compare(base, other, "vm", T)
    assert time.process_time() - began < 2.0
    assert c.verdict == "worse" and c.samples == (10_000, 10_000)
