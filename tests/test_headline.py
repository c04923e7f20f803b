"""The headline: geometric mean with its interval, counts per tier, worst
results, and how each format opens with it."""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
from pathlib import Path

import pytest

from reportgen.analyse import compare, headline, stats
from reportgen.analyse.analysis import Analysis, analyse
from reportgen.analyse.compare import Verdict
from reportgen.analyse.headline import EnvHeadline
from reportgen.core import figures
from reportgen.read import report_yml
from reportgen.render import markdown as render_markdown
from reportgen.render import text as render_text
from tests import independent
from tests.factories import by_round, environment, in_rounds, report

EXAMPLES = Path(__file__).resolve().parent.parent / "reports"


def analysis(*pairs: tuple[str, list[float], list[float]]) -> Analysis:
    """native against guest, one metric per (id, native samples, guest samples),
    one sample per round."""
    return analyse(report(environment("native", *(in_rounds(i, b) for i, b, _ in pairs)),
                          environment("guest", *(in_rounds(i, g) for i, _, g in pairs))))


def with_verdicts(a: Analysis, verdicts: dict[str, Verdict]) -> Analysis:
    """The analysis with some comparisons given another verdict, as the
    significance test and the comparability gate do; untiered ones take the
    verdict as their tier."""
    def change(c: compare.Comparison) -> compare.Comparison:
        verdict = verdicts.get(c.metric_id)
        if verdict is None:
            return c
        tier = verdict if verdict in compare.UNTIERED else c.tier
        rule: compare.Rule = "p" if verdict == "inconclusive" else ""
        return dataclasses.replace(c, verdict=verdict, tier=tier, reason=f"{verdict} here",
                                   rule=rule)

    sections = tuple(dataclasses.replace(s, metrics=tuple(
        dataclasses.replace(m, measurements=tuple(
            dataclasses.replace(r, comparison=change(r.comparison) if r.comparison else None)
            for r in m.measurements)) for m in s.metrics)) for s in a.sections)
    return dataclasses.replace(a, sections=sections)


def only(a: Analysis) -> EnvHeadline:
    (env,) = a.headline.envs
    return env


def test_geometric_mean_of_the_slowdowns() -> None:
    # Slowdowns 2x and 8x: the geometric mean is 4x, not the arithmetic 5x.
    h = only(analysis(("a", [10] * 5, [20] * 5), ("b", [10] * 5, [80] * 5)))
    assert h.geomean == pytest.approx(4.0)
    assert h.included == 2
    # No spread at all: every bootstrap draw is the same, so is the interval.
    assert h.interval == pytest.approx((4.0, 4.0))


# Two metrics in five rounds of three samples a side.  The round medians are
# spread out (9 to 11) and each round's samples are close to its median, so
# resampling rounds, the first level of the bootstrap, is what widens the
# interval.  Pooled medians by hand, the 8th of 15 sorted samples:
#   a (lower is better): native 8.9 9.0 9.1 9.4 9.5 9.6 9.9 [10.0] ..., guest 20.0,
#     slowdown 20 / 10 = 2;
#   b (higher is better): native 358 360 362 378 380 382 398 [400] ..., guest 50.0,
#     slowdown 400 / 50 = 8;
# geometric mean sqrt(2 * 8) = 4.  Every guest round median lies beyond every
# native one: p = 2/252 for both, so both are `worse` and both are in the mean.
A_NATIVE = [[9.0, 9.1, 8.9], [9.5, 9.6, 9.4], [10.0, 10.1, 9.9], [10.5, 10.6, 10.4],
            [11.0, 11.1, 10.9]]
A_GUEST = [[18.0, 18.2, 17.8], [19.0, 19.2, 18.8], [20.0, 20.2, 19.8], [21.0, 21.2, 20.8],
           [22.0, 22.2, 21.8]]
B_NATIVE = [[360, 362, 358], [380, 382, 378], [400, 402, 398], [420, 422, 418],
            [440, 442, 438]]
B_GUEST = [[45.0, 45.2, 44.8], [47.5, 47.7, 47.3], [50.0, 50.2, 49.8], [52.5, 52.7, 52.3],
           [55.0, 55.2, 54.8]]


def spread_out() -> Analysis:
    return analyse(report(
        environment("native", by_round("a", A_NATIVE), by_round("b", B_NATIVE, "higher", "MB/s")),
        environment("guest", by_round("a", A_GUEST), by_round("b", B_GUEST, "higher", "MB/s"))))


def test_interval_agrees_with_an_independent_two_level_bootstrap() -> None:
    """The interval of docs/formats.md ("The headline") computed again in plain
    Python (tests/independent.py): each metric's slowdown drawn by the
    two-level bootstrap, draw i of both combined into one geometric mean, the
    2.5th and 97.5th percentiles.  Another generator and seed, so the ends
    agree within the Monte-Carlo error of both, as levels of the reference's
    distribution (independent.tolerance: +-1.46 points)."""
    h = only(spread_out())
    assert h.geomean == pytest.approx(4.0) and h.included == 2
    rng = random.Random(20260102)
    n = independent.REFERENCE_RESAMPLES
    means = [statistics.geometric_mean(pair) for pair in zip(
        independent.slowdown_draws(A_NATIVE, A_GUEST, "lower", n, rng),
        independent.slowdown_draws(B_NATIVE, B_GUEST, "higher", n, rng))]
    assert h.interval is not None
    low, high = h.interval
    lowest, highest = independent.accepted(means, 0.025, stats.BOOTSTRAP_RESAMPLES)
    assert lowest <= low <= highest, (low, lowest, highest)
    lowest, highest = independent.accepted(means, 0.975, stats.BOOTSTRAP_RESAMPLES)
    assert lowest <= high <= highest, (high, lowest, highest)
    # Both intervals hold the mean worked out by hand.
    assert low < 4.0 < high
    assert independent.percentile(means, 0.025) < 4.0 < independent.percentile(means, 0.975)
    # Seeded: a second analysis gives the same headline to the last bit.
    assert only(spread_out()) == h


def test_higher_is_better_metrics_enter_as_slowdowns() -> None:
    a = analyse(report(environment("native", in_rounds("t", [400] * 5, "higher", "MB/s")),
                       environment("guest", in_rounds("t", [100] * 5, "higher", "MB/s"))))
    assert only(a).geomean == pytest.approx(4.0)


def test_too_few_rounds_leave_a_result_out_of_the_mean() -> None:
    # Two rounds a side: inconclusive, so neither its slowdown (3x) nor its
    # interval-less draws enter the mean; the rest keeps its interval.
    h = only(analysis(("a", [10] * 5, [20] * 5), ("b", [10, 10], [30, 30])))
    assert h.geomean == pytest.approx(2.0) and h.included == 1
    assert h.interval == pytest.approx((2.0, 2.0))
    assert dict(h.counts)["inconclusive"] == 1
    assert headline.mean_text(h) == "2.00x (95% interval 2.00x to 2.00x)"


def test_counts_per_tier_and_worst_results_with_labels() -> None:
    h = only(analysis(("cpu", [100] * 5, [102] * 5), ("sys", [46] * 5, [182] * 5),
                      ("fork", [87] * 5, [5728] * 5), ("mem", [10] * 5, [13] * 5),
                      ("fast", [10] * 5, [5] * 5)))
    assert dict(h.counts) == {"negligible": 2, "moderate": 2, "severe": 1,
                              "inconclusive": 0, "not-comparable": 0}
    assert [(w.metric_id, w.label, w.tier) for w in h.worst] == [
        ("fork", "~66x", "severe"), ("sys", "~4x", "moderate"), ("mem", "+30%", "moderate")]
    assert headline.counts_text(h) == "2 negligible, 2 moderate, 1 severe"
    # Lower is better: ~66x and ~4x slower, +30% is 30% longer.
    assert headline.worst_text(h) == "fork ~66x slower, sys ~4x slower, mem 30% longer"
    assert headline.largest_text(h) == headline.worst_text(h)


def test_inconclusive_and_not_comparable_are_counted_but_left_out_of_the_mean() -> None:
    base = analysis(("a", [10] * 5, [20] * 5), ("b", [10] * 5, [80] * 5), ("c", [10] * 5, [40] * 5))
    h = only(with_verdicts(base, {"b": "inconclusive", "c": "not-comparable"}))
    assert h.geomean == pytest.approx(2.0) and h.included == 1
    assert h.interval == pytest.approx((2.0, 2.0))
    assert dict(h.counts) == {"negligible": 0, "moderate": 1, "severe": 0,
                              "inconclusive": 1, "not-comparable": 1}
    assert [w.metric_id for w in h.worst] == ["a"]  # only `worse` results are worst results
    assert headline.counts_text(h) == ("0 negligible, 1 moderate, 0 severe; 1 inconclusive "
                                       "and 1 not comparable, left out of the mean")
    assert headline.largest_text(h) == "a 100% longer; 1 of 3 inconclusive: inconclusive here"


def test_nothing_left_to_average() -> None:
    h = only(analysis(("a", [10] * 3, [20] * 3)))  # three rounds: inconclusive
    assert (h.geomean, h.interval, h.included, h.worst) == (None, None, 0, ())
    assert headline.mean_text(h) == "n/a (no conclusive result to average)"
    # never "none: no metric is worse", which would read as an all-clear
    assert headline.largest_text(h) == "1 of 1 inconclusive: 3 rounds, need >= 5"


def test_one_row_per_compared_environment() -> None:
    a = analyse(report(environment("native", in_rounds("m", [10] * 5)),
                       environment("kvm", in_rounds("m", [20] * 5)),
                       environment("jail", in_rounds("m", [10] * 5))))
    assert [(h.env, h.geomean) for h in a.headline.envs] == [("kvm", 2.0), ("jail", 1.0)]


@pytest.fixture(scope="module", params=["bhyve-smp", "firecracker-aa", "qemu-tcg"])
def example(request: pytest.FixtureRequest) -> Analysis:
    return analyse(report_yml.load_report(EXAMPLES / request.param).report)


def test_text_has_its_own_block_after_the_system_block(example: Analysis) -> None:
    lines = render_text.render(example).splitlines()
    start = lines.index("System:")
    heading = lines.index(f"Headline (computed from the measurements, against "
                          f"{example.report.baseline}):")
    # only System rows between, a long value wrapped under its own column
    rows = lines[start + 1:heading - 1]
    indent = " " * (rows[0].index(" : ") + 3)
    assert rows == [line for line in rows
                    if " : " in line or (line.startswith(indent) and line.strip())]
    assert lines[heading - 1] == ""
    rule = lines.index(render_text.RULE, heading)
    block = lines[heading:rule]
    assert all(len(line) <= 78 for line in block), block
    (h,) = example.headline.envs
    largest = f" largest: {headline.worst_text(h)}" if h.worst else ""
    undecided = f" {h.undecided}" if h.undecided else ""
    assert " ".join(" ".join(block).split()).endswith(
        f"- {h.env}: geometric mean {headline.mean_text(h)} results: "
        f"{headline.counts_text(h)}{largest}{undecided}")


def test_markdown_opens_with_the_headline_table(example: Analysis) -> None:
    md = render_markdown.render(example, {})
    (h,) = example.headline.envs
    assert md.index("| System |") < md.index("## Headline") < md.index("## Analysis and notes")
    row = f"| {h.env} | {headline.mean_text(h)} | {headline.counts_text(h)} |"
    assert row in md.replace("\\~", "~")


def test_example_figures() -> None:
    a = analyse(report_yml.load_report(EXAMPLES / "bhyve-smp").report)
    h = only(a)
    assert headline.mean_text(h) == "3.02x (95% interval 3.01x to 3.02x)"
    # The medians of reports/bhyve-smp/results (five samples each, the middle
    # one), native against guest; lower is better for the first three.
    slowdowns = [108.0 / 100.0,   # cpu.integer
                 182.0 / 46.0,    # syscall.getpid
                 5728.0 / 87.0,   # process.fork_wait
                 100.0 / 99.4,    # memory.dd_zero
                 100.0 / 64.0,    # memory.sysbench.write.t1
                 100.0 / 52.0,    # memory.sysbench.read.t1
                 100.0 / 59.0,    # memory.sysbench.write.tN
                 100.0 / 41.0,    # memory.sysbench.read.tN
                 413.0 / 22.0,    # disk.write_fsync
                 100.0 / 106.0]   # disk.cached_read
    assert h.included == len(slowdowns)
    assert h.geomean == pytest.approx(math.prod(slowdowns) ** (1 / len(slowdowns)))
    assert headline.worst_text(h) == ("fork()+wait latency ~66x slower, write+fsync throughput "
                                      "~19x slower, getpid() latency ~4x slower")


def test_page_opens_with_the_headline_after_the_title_block(example: Analysis) -> None:
    from reportgen.render.html import Links, render_report

    html = render_report(example, [], Links((), (), analysis=True))
    (h,) = example.headline.envs
    assert html.index("</header>") < html.index('<section class="headline" id="headline">') \
        < html.index('id="system"') < html.index('id="analysis"')
    mean = figures.ratio(h.geomean) if h.geomean is not None else "n/a"
    assert (f'<th scope="row" role="rowheader">{h.env}</th>\n'
            f'<td class="num" data-label="Geometric mean" role="cell">{mean}</td>\n'
            f'<td class="num" data-label="95% interval" role="cell">'
            f'{figures.interval(h.interval) or "n/a"}</td>') in html
    for w in h.worst:  # every one is worse: coloured so, and said so in words
        assert (f'{w.name} <span class="badge verdict-worse tier-{w.tier}">'
                f'<span class="visually-hidden">worse, {w.tier}: </span>{w.words}</span>') in html
    assert '<a href="analysis.json">analysis.json</a>' in html
    # The PDF is rendered from the same page, but has no analysis.json beside it.
    assert "analysis.json" not in render_report(example, [], Links((), ()))


def test_hostile_metric_names_stay_text_in_the_headline() -> None:
    from reportgen.render.html import Links, render_report

    hostile = "<script>alert(1)</script>&"
    base, guest = in_rounds("m", [10] * 5), in_rounds("m", [40] * 5)
    a = analyse(report(environment("native", dataclasses.replace(base, name=hostile)),
                       environment("guest", dataclasses.replace(guest, name=hostile))))
    html = render_report(a, [], Links((), ()))
    section = html[html.index('id="headline"'):html.index("</section>")]
    assert ("&lt;script&gt;alert(1)&lt;/script&gt;&amp; <span class=\"badge verdict-worse "
            "tier-moderate\"><span class=\"visually-hidden\">worse, moderate: </span>~4x slower</span>"
            ) in section
    assert "<script" not in html
    assert "| \\<script\\>alert(1)\\</script\\>& \\~4x slower |" in render_markdown.render(a, {})
