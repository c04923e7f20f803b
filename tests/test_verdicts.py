"""The four verdicts and what surrounds them: reasons, unstable samples, drift
between environments, the noise floor of an A/A run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.analyse import compare, stats
from reportgen.analyse.analysis import analyse, card
from reportgen.cli import main
from reportgen.core import figures
from reportgen.core.model import Better, ConclusionItem, Metric, Round, Thresholds
from reportgen.core.stability import stability
from reportgen.read.report_yml import load_report
from reportgen.render import markdown as render_markdown
from reportgen.render import text as render_text
from tests.factories import environment, in_rounds, metric, report
from tests.golden import ERRORS, cwd, lay_out

T = Thresholds()
FIVE = (1, 2, 3, 4, 5)


def rounds(values: list[float], metric_id: str = "m", better: Better = "lower") -> Metric:
    """One sample per round."""
    return in_rounds(metric_id, values, better)


def verdict(base: list[float], other: list[float], noise: float | None = None
            ) -> tuple[str, str, str]:
    c = compare.compare(rounds(base), rounds(other), "vm", T, noise=noise)
    return c.verdict, c.label, c.reason


@pytest.mark.parametrize(("base", "other", "expected"), [
    # too few rounds: nothing but inconclusive, whatever the figures say
    ([46, 46, 46], [182, 182, 182], ("inconclusive", "?", "3 rounds, need >= 5")),
    # the interval inside +-3%: same
    ([100, 100.5, 99.5, 100.2, 99.8], [100.4, 100.9, 99.9, 100.6, 100.2], ("same", "same", "")),
    # significant and outside the band: a difference
    ([100, 101, 99, 100.5, 99.5], [110, 111, 109, 110.5, 109.5], ("worse", "+10%", "")),
    ([100, 101, 99, 100.5, 99.5], [90, 91, 89, 90.5, 89.5], ("better", "vm faster", "")),
    # rounds that overlap: not significant
    ([100, 110, 90, 105, 95], [104, 112, 96, 108, 100], ("inconclusive", "?", "p = 0.46, need < 0.05")),
    # significant, but the median is inside the band and the interval reaches past it
    ([100, 101, 99, 100.5, 99.5], [102, 103.5, 101, 102.5, 104],
     ("inconclusive", "?", "the change is within \u00b13.00% but its interval reaches past it")),
    # scattered rounds: the spread is the reason
    ([100, 60, 140, 90, 120], [110, 70, 150, 95, 130],
     ("inconclusive", "?", "samples vary by 30%: the difference is within the noise")),
])
def test_rules(base: list[float], other: list[float], expected: tuple[str, str, str]) -> None:
    assert verdict(base, other) == expected


def test_one_round_each_side() -> None:
    c = compare.compare(metric("m", [1, 2, 3]), metric("m", [4, 5, 6]), "vm", T)
    assert (c.verdict, c.reason, c.p_value, c.rounds) == (
        "inconclusive", "1 round, need >= 5", None, (1, 1))


# The rank test's p-values, worked out without scipy.  This block is the one
# place that knows them: a change of the significance test (docs/formats.md,
# "Comparison rules") changes it, and the "p = ..." reasons the rules quote.

def exact_p(a: list[float], b: list[float]) -> Fraction:
    """The two-sided exact p-value of the Mann-Whitney U test, counted: of
    the C(n, len(a)) ways to give len(a) of the ranks 1..n to ``a``, the share
    whose U lies at least as far from its mean len(a) * len(b) / 2 as the U
    observed.  Distances are doubled to stay in integers; no ties."""
    n1, n2 = len(a), len(b)
    rank = {x: r for r, x in enumerate(sorted(a + b), start=1)}

    def distance(ranks: Sequence[int]) -> int:
        return abs(2 * (sum(ranks) - n1 * (n1 + 1) // 2) - n1 * n2)

    observed = distance([rank[x] for x in a])
    ways = list(combinations(range(1, n1 + n2 + 1), n1))
    return Fraction(sum(distance(w) >= observed for w in ways), len(ways))


@pytest.mark.parametrize(("base", "other", "expected"), [
    # Every round apart: U = 0, one way at each end of C(10, 5) = 252.
    ([10, 11, 12, 13, 14], [20, 21, 22, 23, 24], Fraction(2, 252)),
    # Two pairs of rounds overlap: U = 2.  U <= 2 in four ways: U = 0, U = 1,
    # and for U = 2 one base round past two others or two past one each; as
    # many at the other end.
    ([10, 11, 12, 14, 15], [13, 16, 17, 18, 19], Fraction(8, 252)),
    ([10, 11, 12, 13], [20, 21, 22, 23], Fraction(2, 70)),  # 4 against 4: 0.029
    ([10, 11, 12], [20, 21, 22], Fraction(2, 20)),  # 3 against 3: never below 0.1
    # Interleaved (test_compare.test_interval_containing_one_...): U = 10 of 25; the
    # partitions of 0..10 into at most five parts of at most five number
    # 1+1+2+3+5+7+9+11+14+16+18 = 87, and U >= 15 as many: 174/252.
    ([100, 60, 140, 90, 120], [110, 70, 150, 95, 130], Fraction(174, 252)),
])
def test_rank_test_exact_p_values(base: list[float], other: list[float],
                                  expected: Fraction) -> None:
    assert exact_p(base, other) == expected  # the count by hand, checked by enumeration
    assert stats.p_value(rounds(base), rounds(other)) == pytest.approx(float(expected),
                                                                         rel=1e-9)


def normal_p(z: float) -> float:
    """Two-sided p of a standard normal z (math.erfc, not scipy)."""
    return math.erfc(z / math.sqrt(2))


# Tied round medians: the normal approximation with tie and continuity
# corrections, z = (|U - n1 n2 / 2| - 1/2) / sigma, with n = n1 + n2 and
# sigma^2 = n1 n2 / 12 * (n + 1 - sum(t^3 - t) / (n (n - 1))) over each group
# of t equal values.  For 5 against 5, n1 n2 / 2 = 12.5 and n + 1 = 11.

def test_rank_test_with_ties_uses_the_normal_approximation() -> None:
    # 100 in both: mid-rank 4.5, so base ranks 1 2 4.5 7 9, U = 23.5 - 15 = 8.5;
    # sigma^2 = 25/12 * (11 - 6/90) = 205/9, z = 3.5 / (sqrt(205) / 3) = 0.733.
    p = stats.p_value(rounds([100, 110, 90, 105, 95]), rounds([104, 112, 96, 108, 100]))
    assert p == pytest.approx(normal_p(10.5 / math.sqrt(205)), rel=1e-9)
    assert figures.p_value(p) == "0.46"  # the reason test_rules quotes


def test_p_value_is_the_rank_test_on_round_medians() -> None:
    """Five rounds of three samples: ranked by their medians, not all 15
    samples, nor the rounds' means (two rounds have an outlier, 50, that moves
    their mean past the other side's but not their median)."""
    base = metric("m", [10, 11, 50] * 2 + [10, 11, 12] * 3,
                  rounds=tuple(r for r in FIVE for _ in range(3)))
    other = metric("m", [20, 21, 22] * 5, rounds=tuple(r for r in FIVE for _ in range(3)))
    # Round medians 11 (five times) against 21 (five times): U = 0; two groups
    # of five ties, sigma^2 = 25/12 * (11 - 240/90) = 625/36, sigma = 25/6,
    # z = 12 / (25/6) = 2.88, p = 0.00398.
    assert stats.p_value(base, other) == pytest.approx(normal_p(2.88), rel=1e-9)
    assert stats.p_value(metric("m", [1, 2]), metric("m", [3, 4])) is None


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
                      ("inconclusive", [("Both", "same; 1 of 2 inconclusive: 1 round, need >= 5")])]
    # The index lists no inconclusive result among the slowdowns; it says why instead.
    assert card(result).worst(3) == ()
    assert card(result).undecided == ("1 of 2 inconclusive: 1 round, need >= 5",)
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
    assert ('<td class="num" data-label="p" role="cell">n/a</td>\n<td class="verdict" role="cell">'
            '<span class="badge verdict-inconclusive tier-inconclusive" title="inconclusive">'
            '<span class="visually-hidden">inconclusive: </span>?</span> <span class="reason">'
            'inconclusive (1&nbsp;round, need&nbsp;&gt;=&nbsp;5)</span></td>') in page
    assert ('<td class="num" data-label="p" role="cell">0.004</td>\n<td class="verdict" role="cell">'
            '<span class="badge verdict-worse tier-moderate"><span class="visually-hidden">'
            'worse, moderate: </span>+100%</span> <span class="reason">worse, moderate</span>'
            '</td>') in page
    # The index lists a, worse, in words; b, 3x apart but inconclusive, only
    # in the line that says how many are inconclusive and why.
    index = render_index("Site", [card(result)], {})
    assert ('<td class="verdict" role="cell"><span class="badge verdict-worse tier-moderate">'
            '<span class="visually-hidden">worse, moderate: </span>100% longer</span></td>'
            ) in index
    assert "verdict-inconclusive" not in index
    assert ('<p class="note undecided">1 of 2 inconclusive: 1 round, need &gt;= 5</p>'
            ) in index


def test_adjusted_p_values_follow_benjamini_hochberg() -> None:
    # By hand: sorted 0.01, 0.03, 0.04 of m = 3 tested; p * m / rank gives
    # 0.03, 0.045, 0.04; each takes the least of its own and those ranked
    # above it: 0.03, 0.04, 0.04.  None is not tested and stays None.
    raw = {"a": 0.01, "b": 0.04, "c": 0.03, "d": None}
    adjusted = stats.adjusted_p_values(raw)
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.04, "c": 0.04, "d": None})


def test_one_lucky_metric_among_many_is_not_a_difference() -> None:
    """Ten metrics of one machine against itself: a 5% test per metric would
    let one lucky separation through; adjusted together, it stays inconclusive."""
    lucky = (rounds([100, 101, 102, 103, 104], "lucky"), rounds([105, 106, 107, 108, 109], "lucky"))
    alone = analyse(report(environment("native", lucky[0]), environment("guest", lucky[1])))
    assert [(c.verdict, c.label) for c in alone.comparisons] == [("worse", "+5%")]
    others = [(rounds([100, 104, 98, 102, 96], f"m{i}"), rounds([101, 97, 103, 99, 100], f"m{i}"))
              for i in range(9)]
    native = environment("native", lucky[0], *(a for a, _ in others))
    guest = environment("guest", lucky[1], *(b for _, b in others))
    among = analyse(report(native, guest))
    found = next(c for c in among.comparisons if c.metric_id == "lucky")
    # Raw 2/252, the smallest of ten (the others' are 1): 10 * 2/252 = 0.079.
    # Every round of it lies apart, so its interval excludes 1x: the reason says why
    # that is not enough.
    assert (found.verdict, found.label, found.rule, found.reason) == (
        "inconclusive", "?", "p",
        "interval excludes 1x but p = 0.08 after adjusting for 10 metrics, need < 0.05")
