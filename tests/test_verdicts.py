"""The four verdicts and what surrounds them: reasons, unstable samples, drift
between environments, the noise floor of an A/A run."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from reportgen.analyse import compare, stats
from reportgen.analyse.analysis import analyse, card
from reportgen.cli import main
from reportgen.core import figures
from reportgen.core.model import (
    Better,
    ConclusionItem,
    Environment,
    Metric,
    Report,
    Round,
    Thresholds,
)
from reportgen.core.stability import stability
from reportgen.read.report_yml import load_report
from reportgen.render import markdown as render_markdown
from reportgen.render import text as render_text
from tests import independent
from tests.factories import environment, in_rounds, metric, report
from tests.golden import ERRORS, cwd, lay_out
from tests.recompute import benjamini_hochberg

T = Thresholds()
FIVE = (1, 2, 3, 4, 5)


def rounds(values: list[float], metric_id: str = "m", better: Better = "lower") -> Metric:
    """One sample per round."""
    return in_rounds(metric_id, values, better)


def verdict(base: list[float], other: list[float], noise: float | None = None
            ) -> tuple[str, str, str]:
    c = compare.compare(rounds(base), rounds(other), "vm", T, noise=noise)
    return c.verdict, c.label, c.reason


def powers(exponents: Sequence[int], step: float = 1.01) -> list[float]:
    """Rounds of 100 * step^k, one per exponent k."""
    return [100 * step ** k for k in exponents]


def logs(values: Sequence[float]) -> list[float]:
    return [math.log(v) for v in values]


@pytest.mark.parametrize(("base", "other", "expected"), [
    # too few rounds: nothing but inconclusive, whatever the figures say
    ([46, 46, 46], [182, 182, 182], ("inconclusive", "?", "3 rounds, need >= 5")),
    # the interval inside +-3%: same
    ([100, 100.5, 99.5, 100.2, 99.8], [100.4, 100.9, 99.9, 100.6, 100.2], ("same", "same", "")),
    # significant and outside the band: a difference
    ([100, 101, 99, 100.5, 99.5], [110, 111, 109, 110.5, 109.5], ("worse", "+10%", "")),
    ([100, 101, 99, 100.5, 99.5], [90, 91, 89, 90.5, 89.5], ("better", "vm faster", "")),
    # rounds that overlap, 100 * 1.01^k for k = 0 2 4 6 8 against 2 4 6 8 10:
    # t = 1 on 8 df, p = 0.35 (test_welch_p_values_worked_by_hand), not significant
    (powers([0, 2, 4, 6, 8]), powers([2, 4, 6, 8, 10]), ("inconclusive", "?", "p = 0.35")),
    # significant, but the median is inside the band and the interval reaches past it
    ([100, 101, 99, 100.5, 99.5], [102, 103.5, 101, 102.5, 104],
     ("inconclusive", "?", "interval reaches past \u00b13.00%")),
    # scattered rounds: the spread is the reason
    ([100, 60, 140, 90, 120], [110, 70, 150, 95, 130], ("inconclusive", "?", "CV 30%")),
])
def test_rules(base: list[float], other: list[float], expected: tuple[str, str, str]) -> None:
    assert verdict(base, other) == expected


def test_one_round_each_side() -> None:
    c = compare.compare(metric("m", [1, 2, 3]), metric("m", [4, 5, 6]), "vm", T)
    assert (c.verdict, c.reason, c.p_value, c.rounds) == (
        "inconclusive", "1 round, need >= 5", None, (1, 1))


# Welch's t-test on the logarithms of the round medians (docs/formats.md,
# "Comparison rules"), worked by hand.  This block is the one place that
# knows its p-values: a change of the significance test changes it, and the
# "p = ..." reasons the rules quote.  Rounds of 100 * 1.01^k have logs
# log 100 + k u, u = log 1.01; t is a ratio of differences, the same worked
# on the exponents k, so t and the Welch-Satterthwaite df come out by hand:
# t = (mean b - mean a) / sqrt(va + vb), va = var(a) / n_a (n - 1 in the
# variance), df = (va + vb)^2 / (va^2 / (n_a - 1) + vb^2 / (n_b - 1)).
# P(|T| >= t) is tests/independent.py's (the incomplete beta by its continued
# fraction), itself held against closed forms and Simpson's rule below: not scipy.

@pytest.mark.parametrize(("base", "other", "t", "df"), [
    # Complete separation, the rounds side by side: 0..4 against 5..9.  Means
    # 2 and 7; each side's variance (4 + 1 + 0 + 1 + 4) / 4 = 2.5, over 5
    # rounds 0.5: t = 5 / sqrt(0.5 + 0.5) = 5, df = 1 / (2 * 0.5^2 / 4) = 8;
    # p = 0.00105.  Below the 0.05 / 10 = 0.005 a lone difference among ten
    # metrics needs after Benjamini-Hochberg, where the rank test stopped at
    # 2/252 = 0.0079 whatever the data.
    (powers(range(5)), powers(range(5, 10)), 5.0, 8.0),
    # Farther apart, 0..4 against 10..14: t = 10 / 1 = 10, df = 8, p = 8.5e-6.
    (powers(range(5)), powers(range(10, 15)), 10.0, 8.0),
    # Overlapping, 0 2 4 6 8 against 2 4 6 8 10: variances 10 / 5 = 2 each,
    # t = 2 / sqrt(4) = 1, df = 16 / (4/4 + 4/4) = 8; p = 0.35.
    (powers([0, 2, 4, 6, 8]), powers([2, 4, 6, 8, 10]), 1.0, 8.0),
    # Unequal spread and rounds: 0 2 4 6 8 (va = 10 / 5 = 2) against 9 10 11
    # (vb = 1 / 3): t = 6 / sqrt(7/3) = 3.93, df = (7/3)^2 / (2^2 / 4 +
    # (1/3)^2 / 2) = 98/19 = 5.16, not a whole number; p = 0.0104.
    (powers([0, 2, 4, 6, 8]), powers([9, 10, 11]), 6 / math.sqrt(7 / 3), 98 / 19),
    # The other side better: the same t negative, the same two-sided p.
    (powers(range(5, 10)), powers(range(5)), -5.0, 8.0),
])
def test_welch_p_values_worked_by_hand(base: list[float], other: list[float], t: float,
                                       df: float) -> None:
    found = independent.welch(logs(base), logs(other))
    assert (found.t, found.df) == pytest.approx((t, df), rel=1e-9)  # the hand-work, checked
    assert stats.p_value(rounds(base), rounds(other)) == pytest.approx(
        independent.t_two_sided(t, df), rel=1e-9)


def test_welch_p_value_in_closed_form() -> None:
    # Two rounds a side, 0 2 against 4 6: va = vb = 2 / 2 = 1, t = 4 / sqrt(2),
    # df = 4 / (1 + 1) = 2, where P(|T| >= t) = 1 - t / sqrt(2 + t^2)
    # = 1 - sqrt(8 / 10): no tail function at all.
    p = stats.p_value(rounds(powers([0, 2])), rounds(powers([4, 6])))
    assert p == pytest.approx(1 - math.sqrt(0.8), rel=1e-9)


def test_complete_separation_at_five_rounds_reaches_the_adjusted_level() -> None:
    """The point of the test: five rounds a side all apart can show a lone
    difference among ten metrics (p <= 0.05 / 10 before adjustment)."""
    p = stats.p_value(rounds(powers(range(5))), rounds(powers(range(5, 10))))
    assert p is not None and p < 0.005
    assert p == pytest.approx(0.00105, abs=5e-6)  # t = 5 on 8 df, by the table above


def test_p_value_without_spread_or_without_rounds() -> None:
    # Equal rounds, in another order: the difference of means is nil, t = 0, p = 1.
    assert stats.p_value(rounds([100, 101, 102, 103, 104]),
                         rounds([104, 100, 103, 101, 102])) == pytest.approx(1.0)
    # Every round alike within each side: no spread to weigh the difference
    # against, so a difference is certain (p = 0) and none is none (p = 1).
    # (Zero to rounding: the mean of five equal logarithms need not be that
    # logarithm to the last bit, leaving a variance of 1e-32 or so.)
    assert stats.p_value(rounds([46] * 5), rounds([182] * 5)) == pytest.approx(0.0, abs=1e-15)
    assert stats.p_value(rounds([46] * 5), rounds([46] * 5)) == 1.0
    # A side with a single round has no variance: no test.
    assert stats.p_value(rounds([46]), rounds([44, 45, 46, 47, 48])) is None
    assert stats.p_value(metric("m", [1, 2]), metric("m", [3, 4])) is None


def test_p_value_is_welch_on_log_round_medians() -> None:
    """Five rounds of three samples: tested by their medians, not all 15
    samples, nor the rounds' means (two rounds have an outlier, 150, that
    moves their mean past the other side's but not their median).  The
    medians are 100 * 1.01^k, k = 0..4 against 5..9: t = 5 on 8 df as above."""
    def three(median: float, top: float) -> list[float]:
        return [median * 0.999, median, top]

    base_medians, other_medians = powers(range(5)), powers(range(5, 10))
    base = metric("m", [x for i, m in enumerate(base_medians)
                        for x in three(m, 150 if i < 2 else m * 1.001)],
                  rounds=tuple(r for r in FIVE for _ in range(3)))
    other = metric("m", [x for m in other_medians for x in three(m, m * 1.001)],
                   rounds=tuple(r for r in FIVE for _ in range(3)))
    assert stats.p_value(base, other) == pytest.approx(independent.t_two_sided(5, 8), rel=1e-9)
    # Higher is better: the log slowness is -log value, so the reciprocals
    # of the same rounds give the same test.
    flipped = [metric("m", [1 / x for x in m.samples], "higher", rounds=m.rounds)
               for m in (base, other)]
    assert stats.p_value(*flipped) == pytest.approx(independent.t_two_sided(5, 8), rel=1e-9)


@pytest.mark.parametrize(("t", "df"), [(0.5, 1), (3.0, 1), (1.0, 2), (4.0, 2), (1.0, 8),
                                       (3.93, 5.16), (2.2, 2.26), (10.0, 8)])
def test_independent_t_tail_against_closed_forms_and_simpson(t: float, df: float) -> None:
    """tests/independent.py's Student t tail, the reference above: for df = 1
    (Cauchy) P(|T| >= t) = 1 - 2 atan(t) / pi, for df = 2 it is
    1 - t / sqrt(2 + t^2); for any df, Simpson's rule on the density agrees."""
    p = independent.t_two_sided(t, df)
    if df == 1:
        assert p == pytest.approx(1 - 2 * math.atan(t) / math.pi, rel=1e-12)
    if df == 2:
        assert p == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-12)
    assert p == pytest.approx(independent.t_two_sided_by_simpson(t, df), rel=1e-7, abs=1e-12)
    assert independent.t_two_sided(-t, df) == p


def test_a_wider_noise_band_turns_a_difference_into_same() -> None:
    base, other = [100, 101, 99, 100.5, 99.5], [104, 105, 103, 104.5, 103.5]
    assert verdict(base, other)[:2] == ("worse", "+4%")
    assert verdict(base, other, noise=0.08)[:2] == ("same", "same")


@pytest.mark.parametrize(("samples", "cv", "outliers", "text"), [
    ([100, 101, 99, 100, 100], 0.0071, 0, ""),  # quartiles coincide: no fences
    ([100, 101, 99, 100.5, 99.5], 0.0079, 0, ""),
    ([100, 60, 140, 90, 120], 0.30, 0, "CV 30%"),
    ([100, 101, 99, 100, 101, 99, 100, 160], 0.20, 1, "CV 20%, 1 outlier"),
    ([6014.84, 6005.79, 6228.8, 5957.59, 5994.44], 0.018, 1, "1 outlier"),
])
def test_stability(samples: list[float], cv: float, outliers: int, text: str) -> None:
    found = stability(samples)
    assert found.cv == pytest.approx(cv, abs=0.005)
    assert found.outliers == outliers
    assert found.describe() == text
    assert found.unstable == bool(text)


def at(*times: str) -> tuple[Round, ...]:
    return tuple(Round(i, t) for i, t in enumerate(times, start=1))


@pytest.mark.parametrize(("a", "b", "expected"), [
    (at("2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z"),
     at("2026-01-01T11:00:00Z", "2026-01-01T11:05:00Z"), True),
    (at("2026-01-01T11:00:00Z"), at("2026-01-01T10:00:00Z"), True),
    (at("2026-01-01T10:00:00Z", "2026-01-01T10:10:00Z"),
     at("2026-01-01T10:05:00Z", "2026-01-01T10:15:00Z"), False),  # in alternation
    (at(""), at("2026-01-01T10:00:00Z"), False),  # unknown: say nothing
    (at("yesterday"), at("2026-01-01T10:00:00Z"), False),
])
def test_sequential(a: tuple[Round, ...], b: tuple[Round, ...], expected: bool) -> None:
    assert compare.sequential(a, b) is expected


def test_drift_note_in_every_format() -> None:
    native = environment("native", rounds([46, 46, 46, 46, 46], "syscall.getpid"))
    guest = environment("guest", rounds([182, 182, 182, 182, 182], "syscall.getpid"))
    result = analyse(report(replace(native, rounds=at("2026-01-01T10:00:00Z")),
                            replace(guest, rounds=at("2026-01-01T12:00:00Z"))))
    note = ("native and guest were measured one after the other, not in alternation: drift "
            "of the machine between them (load, temperature, updates) is not controlled.")
    assert result.notes == (note,)
    assert "Note: native and guest were measured one after the other" in render_text.render(
        result)
    assert f"> **Note:** {note}" in render_markdown.render(result, {})


def test_inconclusive_is_never_filed_as_fine() -> None:
    native = environment("native", rounds([46] * 5, "a"), metric("b", [10, 10, 10]))
    guest = environment("guest", rounds([46.1] * 5, "a"), metric("b", [30, 30, 30]))
    rep = report(native, guest, conclusions=[ConclusionItem("A", ("a",), ""),
                                             ConclusionItem("Both", ("a", "b"), "")])
    result = analyse(rep)
    blocks = [(b.tier, [(i.name, i.figure) for i in b.items]) for b in result.conclusions[0].blocks]
    assert blocks == [("negligible", [("A", "same")]),
                      ("inconclusive", [("Both", "same, inconclusive (1 round, need >= 5)")])]
    worst = card(result).worst(3)
    assert [(m.id, m.label, m.tier) for m in worst] == [("b", "?", "inconclusive")]
    text = render_text.render(result)
    assert "Inconclusive: the data cannot tell:" in text
    assert ("- b: guest 30.0 ns, native 10.0 ns; 3.00x (95% interval 3.00x to 3.00x, p =\n"
            "  n/a): inconclusive (1 round, need >= 5)") in text


def test_noise_floor_widens_the_band_and_is_stated() -> None:
    aa_a = environment("aa", rounds([100, 104, 96, 102, 98], "syscall.getpid"))
    aa_b = environment("aa", rounds([106, 110, 102, 108, 104], "syscall.getpid"))
    floor = compare.noise_floor(aa_a.metrics["syscall.getpid"], aa_b.metrics["syscall.getpid"], T)
    assert floor.change == pytest.approx(0.06)
    assert floor.interval is not None and floor.band == pytest.approx(floor.interval[1])
    assert floor.band > 0.06
    native = environment("native", rounds([100, 101, 99, 100.5, 99.5], "syscall.getpid"))
    guest = environment("guest", rounds([105, 106, 104, 105.5, 104.5], "syscall.getpid"))
    plain = analyse(report(native, guest))
    assert plain.sections[0].badge == "+5%"
    widened = analyse(replace(report(native, guest), noise=(aa_a, aa_b)))
    assert widened.sections[0].badge == "same"
    text = render_text.render(widened)
    assert ("Noise floor from an A/A run (results/aa.json against results/aa.json); the\n"
            "  smallest change each metric can show:") in text
    assert f"- syscall.getpid: \u00b1{figures.number(floor.band * 100)}% (A/A change +6%" in text


def test_noise_files_load_and_stay_out_of_the_comparison(tmp_path: Path) -> None:
    project = lay_out(ERRORS / "noise_same", tmp_path / "p")
    report_dir = project / "reports" / "r"
    text = (report_dir / "report.yml").read_text()
    (report_dir / "noise" / "bb.json").write_bytes((report_dir / "noise" / "aa.json").read_bytes())
    (report_dir / "report.yml").write_text(text.replace("b: noise/aa.json", "b: noise/bb.json"))
    loaded = load_report(report_dir).report
    assert loaded.noise is not None
    assert [e.file_name for e in loaded.noise] == ["noise/aa.json", "noise/bb.json"]
    assert [e.label for e in loaded.environments] == ["native", "guest"]
    assert {"noise/aa.json", "noise/bb.json"} <= {f.name for f in loaded.inputs}


def test_unstable_samples_warn_at_the_metric_and_strict_still_builds(tmp_path: Path) -> None:
    project = lay_out(ERRORS / "_base", tmp_path / "p")
    guest = project / "reports" / "r" / "results" / "guest.json"
    guest.write_text(guest.read_text().replace("182.0", "382.0", 1))
    with cwd(project):
        result = CliRunner().invoke(main, ["build", "--strict"])
    assert result.exit_code == 0
    stderr = result.stderr
    line = next(i for i, text in enumerate(guest.read_text().splitlines(), start=1)
                if '"samples"' in text)
    assert stderr.splitlines()[0] == (
        f"reports/r/results/guest.json:{line}:18: warning: metric 'syscall.getpid' in 'guest' "
        "has unstable samples (CV 46%); its verdicts may be inconclusive")


def test_page_and_index_show_inconclusive_with_its_reason() -> None:
    from reportgen.render.html import Links, render_index, render_report

    native = environment("native", metric("b", [10, 10, 10]), rounds([46] * 5, "a"))
    guest = environment("guest", metric("b", [30, 30, 31]), rounds([92] * 5, "a"))
    result = analyse(report(native, guest))
    page = render_report(result, [], Links((), ()))
    assert ('<td class="num">n/a</td>\n<td><span class="badge tier-inconclusive" '
            'title="inconclusive">?</span> <span class="reason">inconclusive (1 round, need '
            '&gt;= 5)</span></td>') in page
    # a: every round 46 against every round 92, no spread on either side: the
    # difference is all there is, p = 0 (b, one round a side, has no test to
    # adjust it with), printed "< 0.001".
    assert ('<td class="num">&lt; 0.001</td>\n<td><span class="badge tier-moderate">+100%'
            '</span></td>') in page
    index = render_index("Site", [card(result)], {})
    assert ('<td><span class="badge tier-inconclusive" title="inconclusive">?</span> '
            '<span class="reason">inconclusive</span></td>') in index


def test_adjusted_p_values_follow_benjamini_hochberg() -> None:
    # By hand: sorted 0.01, 0.03, 0.04 of m = 3 tested; p * m / rank gives
    # 0.03, 0.045, 0.04; each takes the least of its own and those ranked
    # above it: 0.03, 0.04, 0.04.  None is not tested and stays None.
    raw = {"a": 0.01, "b": 0.04, "c": 0.03, "d": None}
    adjusted = stats.adjusted_p_values(raw)
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.04, "c": 0.04, "d": None})


def test_one_lucky_metric_among_many_is_not_a_difference() -> None:
    """Ten metrics of one machine against itself: a 5% test per metric would
    let one borderline difference through; adjusted together, it stays
    inconclusive.  A clear separation still gets through the adjustment."""
    # Rounds of 100 * 1.02^k.  The lucky metric, 0..4 against 3..7: each side's
    # variance 2.5 / 5 = 0.5, t = 3 / sqrt(0.5 + 0.5) = 3 on 8 df, p = 0.0171,
    # and the medians 1.02^2 against 1.02^5 are 6.1% apart: alone, worse.
    lucky = (rounds(powers(range(5), 1.02), "lucky"), rounds(powers(range(3, 8), 1.02), "lucky"))
    alone = analyse(report(environment("native", lucky[0]), environment("guest", lucky[1])))
    assert [(c.verdict, c.label) for c in alone.comparisons] == [("worse", "+6%")]
    assert alone.comparisons[0].p_value == pytest.approx(independent.t_two_sided(3, 8), rel=1e-9)
    # Nine others, 0 2 4 6 8 against 2 4 6 8 10: t = 1 on 8 df, p = 0.347 each.
    others = [(rounds(powers([0, 2, 4, 6, 8], 1.02), f"m{i}"),
               rounds(powers([2, 4, 6, 8, 10], 1.02), f"m{i}")) for i in range(9)]

    def among(pair: tuple[Metric, Metric]) -> compare.Comparison:
        native = environment("native", pair[0], *(a for a, _ in others))
        guest = environment("guest", pair[1], *(b for _, b in others))
        return next(c for c in analyse(report(native, guest)).comparisons
                    if c.metric_id == pair[0].id)

    # Benjamini-Hochberg, the lucky p the smallest of ten: the least of
    # 10/1 * 0.0171 = 0.171 and 10/j * 0.347 for j = 2..10 (at least 0.347).
    found = among(lucky)
    assert found.p_value == pytest.approx(10 * independent.t_two_sided(3, 8), rel=1e-9)
    assert (found.verdict, found.label, found.reason) == ("inconclusive", "?", "p = 0.17")
    # Rounds all apart, 0..4 against 5..9: t = 5 on 8 df, p = 0.00105, and
    # 10 * 0.00105 = 0.0105 < 0.05; the medians 1.02^2 and 1.02^7 are 10.4% apart.
    clear = among((rounds(powers(range(5), 1.02), "clear"),
                   rounds(powers(range(5, 10), 1.02), "clear")))
    assert clear.p_value == pytest.approx(10 * independent.t_two_sided(5, 8), rel=1e-9)
    assert (clear.verdict, clear.label) == ("worse", "+10%")


# The drift of a machine between two environments measured one after the
# other (docs/formats.md, "Comparison rules"): one least-squares slope of the
# log round medians against start time, shared by every metric and both
# sides, each series about its own mean; each metric tested by Welch on
# y - slope * t with (gap * se)^2 added to the difference's variance.

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
    assert [c.p_value for c in corrected.comparisons] == pytest.approx([1.0] * 4)
    assert len(corrected.notes) == 1 and "one after the other" in corrected.notes[0]
    # The same samples without start times: the plain test calls every metric
    # worse: the medians are 5.1% apart and each side's rounds climb steadily
    # (t = 5 u / sqrt(va + vb), about 5 on 8 df as in the rounds side by side above).
    plain = analyse(drifting_report((), ()))
    assert [(c.verdict, c.label) for c in plain.comparisons] == [
        ("worse", "+5%"), ("worse", "+5%"), ("worse", "-5%"), ("worse", "+5%")]
    assert all(c.p_value is not None and c.p_value < 0.005 for c in plain.comparisons)


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
    assert fork.p_value is not None and fork.p_value < 1e-6
    assert [(c.verdict, c.reason) for m, c in by_metric.items() if m != "d"] == [
        ("inconclusive", DRIFTED)] * 3


def test_alternated_rounds_keep_the_plain_test() -> None:
    """The same samples with native and guest rounds in alternation: the
    drift is controlled, so no fit and no drift reason; each p is Welch on the
    log round medians (tests/independent.py), adjusted by Benjamini-Hochberg."""
    alternated = drifting_report((0, 1200, 2400, 3600, 4800), (600, 1800, 3000, 4200, 5400))
    result = analyse(alternated)
    assert result.notes == ()
    assert [(c.verdict, c.label, c.reason) for c in result.comparisons] == [
        ("worse", "+5%", ""), ("worse", "+5%", ""), ("worse", "-5%", ""), ("worse", "+5%", "")]
    native, guest = alternated.environments
    expected = benjamini_hochberg({m: independent.welch(slowness(native.metrics[m]),
                                                        slowness(guest.metrics[m])).p
                                   for m, _, _ in DRIFTING})
    assert {c.metric_id: c.p_value for c in result.comparisons} == pytest.approx(expected,
                                                                                rel=1e-9)


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
    assert {c.metric_id: c.p_value for c in result.comparisons} == pytest.approx(expected,
                                                                                rel=1e-9)
    assert [c.reason for c in result.comparisons] == ["3 rounds, need >= 5"] * 2


# Two cases where the variances of both sides are (nearly) nothing: the
# drift-corrected test must still weigh the slope's own uncertainty, and
# treat rounding error as no spread.

def test_drift_that_explains_every_round_exactly_is_not_a_difference() -> None:
    """Rounds 12 * 1.01^k, k = 0..4 then 5..9, nothing else: the drift
    explains every round, y - slope * t is the same on both sides, p = 1
    ("none is none").  The residuals are rounding errors (1e-17) that
    Welch would divide by each other (p = 0.016, a verdict of worse)."""
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
    assert a.p_value is not None and a.p_value > 0.05
    assert a.verdict == "inconclusive"
