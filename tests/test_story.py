"""One story everywhere: the headline, report.txt, report.md, analysis.json,
the report page, the site index's card and the feed say the same thing about
which results are worse, how many are inconclusive and why, and put the
direction of each cost in words.

The expected strings are written by hand from the samples below."""

from __future__ import annotations

import statistics

from reportgen.analyse import headline
from reportgen.analyse.analysis import Analysis, analyse, card
from reportgen.core.model import ConclusionItem
from reportgen.render import analysis_json, html
from reportgen.render import markdown as render_markdown
from reportgen.render import text as render_text
from reportgen.site import feeds
from tests.factories import environment, in_rounds, report


def flat(text: str) -> str:
    """Text with its line wrapping undone."""
    return " ".join(text.split())


def logical_lines(text: str) -> list[str]:
    """The lines of report.txt, each wrapped line joined to the one it continues."""
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("  ") and out:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


def pages(a: Analysis) -> dict[str, str]:
    """Every format of one analysis, the index and the page as HTML."""
    return {"txt": flat(render_text.render(a)),
            "md": flat(render_markdown.render(a, {})).replace("\\", ""),
            "page": flat(html.render_report(a, [], html.Links((), ()))),
            "index": flat(html.render_index("Site", [card(a)], {}))}


# a and b: five rounds a side, 2x and 3x the time (lower is better): worse,
# "+100%" and "~3x".  c, d and e: three rounds a side, however far apart,
# inconclusive by the first rule.
SOME = report(
    environment("native", in_rounds("a", [10] * 5), in_rounds("b", [10] * 5),
                in_rounds("c", [10] * 3), in_rounds("d", [10] * 3), in_rounds("e", [10] * 3)),
    environment("guest", in_rounds("a", [20] * 5), in_rounds("b", [30] * 5),
                in_rounds("c", [40] * 3), in_rounds("d", [40] * 3), in_rounds("e", [10] * 3)))
SOME_LINE = "3 of 5 inconclusive: 3 rounds, need >= 5"


def test_worse_results_then_how_many_are_inconclusive_and_why() -> None:
    a = analyse(SOME)
    (h,) = a.headline.envs
    assert [(w.metric_id, w.label, w.words) for w in h.worst] == [
        ("b", "~3x", "~3x slower"), ("a", "+100%", "100% longer")]
    assert h.undecided == SOME_LINE
    formats = pages(a)
    assert "largest: b ~3x slower, a 100% longer 3 of 5 inconclusive: 3 rounds, need >= 5 " \
        "=====" in formats["txt"]
    assert f"| b ~3x slower, a 100% longer; {SOME_LINE} |" in formats["md"]
    assert (f'b <span class="badge verdict-worse tier-moderate"><span class="visually-hidden">'
            f'worse, moderate: </span>~3x slower</span>, a <span class="badge verdict-worse '
            f'tier-moderate"><span class="visually-hidden">worse, moderate: </span>100% longer'
            f'</span>; {SOME_LINE.replace(">", "&gt;")}</td>') in formats["page"]
    # The index lists the same worse results, never an inconclusive one (c and
    # d are 4x apart), and the same line.
    assert [(m.id, m.words) for m in card(a).worst(3)] == [("b", "~3x slower"),
                                                            ("a", "100% longer")]
    assert f'<p class="note undecided">{SOME_LINE.replace(">", "&gt;")}</p>' in formats["index"]
    assert "No slowdowns" not in formats["index"]
    document = analysis_json.document(a)
    assert document["headline"][0]["inconclusive"] == SOME_LINE
    assert [(w["metric"], w["words"]) for w in document["headline"][0]["worst"]] == [
        ("b", "~3x slower"), ("a", "100% longer")]
    assert {c["metric"]: c["rule"] for c in document["comparisons"]} == {
        "a": None, "b": None, "c": "rounds", "d": "rounds", "e": "rounds"}
    assert feeds.summary(card(a)) == (
        "Largest slowdowns against native: b in guest: ~3x slower (3.00x); "
        f"a in guest: 100% longer (2.00x). {SOME_LINE}.")


def test_nothing_concluded_is_never_an_all_clear() -> None:
    a = analyse(report(environment("native", in_rounds("c", [10] * 3), in_rounds("d", [10] * 3)),
                       environment("guest", in_rounds("c", [40] * 3), in_rounds("d", [10] * 3))))
    line = "2 of 2 inconclusive: 3 rounds, need >= 5"
    (h,) = a.headline.envs
    assert (h.worst, h.undecided, headline.largest_text(h)) == ((), line, line)
    formats = pages(a)
    assert ("results: 0 negligible, 0 moderate, 0 severe; 2 inconclusive, left out of the mean "
            f"{line} =====") in formats["txt"]
    assert "largest:" not in formats["txt"] and "no metric is worse" not in formats["txt"]
    assert f"| {line} |" in formats["md"] and "no metric is worse" not in formats["md"]
    assert "no metric is worse" not in formats["page"]
    assert "Largest slowdowns against" not in formats["index"]
    assert "No slowdowns" not in formats["index"]
    assert f'<p class="note undecided">{line.replace(">", "&gt;")}</p>' in formats["index"]
    assert feeds.summary(card(a)) == f"{line}."
    assert analysis_json.document(a)["headline"][0]["inconclusive"] == line


def test_every_result_concluded_and_none_worse_is_said_so() -> None:
    a = analyse(report(environment("native", in_rounds("a", [10] * 5)),
                       environment("guest", in_rounds("a", [10] * 5))))
    (h,) = a.headline.envs
    assert (h.undecided, headline.largest_text(h)) == ("", "none: no metric is worse in guest")
    assert "largest: none: no metric is worse in guest" in pages(a)["txt"]
    assert analysis_json.document(a)["headline"][0]["inconclusive"] is None
    assert "No slowdowns: every metric is the same as native or faster." in pages(a)["index"]


def test_conclusions_say_the_direction_in_words() -> None:
    """Throughput 100 -> 64 and 100 -> 52 (higher is better): -36% and -48%,
    slowdowns 100/64 = 1.5625 and 100/52 = 1.923; a run time 100 -> 108
    (lower is better): +8%."""
    native = environment("native", in_rounds("w", [100] * 5, "higher"),
                         in_rounds("r", [100] * 5, "higher"), in_rounds("t", [100] * 5))
    guest = environment("guest", in_rounds("w", [64] * 5, "higher"),
                        in_rounds("r", [52] * 5, "higher"), in_rounds("t", [108] * 5))
    a = analyse(report(native, guest, conclusions=[
        ConclusionItem("Memory", ("w", "r"), "(two-level TLB misses)"),
        ConclusionItem("CPU", ("t",), "barely touched")]))
    formats = pages(a)
    memory = "36% to 48% less throughput across 2 metrics"
    assert f"- Memory: {memory} (two-level TLB misses)" in formats["txt"]
    assert "- CPU: 8% longer, barely touched" in formats["txt"]
    assert f"- Memory: {memory} (two-level TLB misses)" in formats["md"]
    assert f"</span>{memory}</span>" in formats["page"]
    assert ('<td class="num" data-label="Slowdown" role="cell">1.56x to 1.92x slower</td>'
            ) in formats["page"]
    # The badges keep their form.
    assert [c.label for c in a.comparisons] == ["-48%", "+8%", "-36%"]


# Two metrics whose samples scatter: CV 30% and 38% (sample standard
# deviation over the mean, worked out below), medians 10% and 5% apart, and
# the rounds overlap, so the rank test finds nothing: within the noise.
NOISY = {"m": ([100, 60, 140, 90, 120], [110, 70, 150, 95, 130]),
         "n": ([100, 50, 150, 80, 120], [105, 52.5, 157.5, 84, 126])}


def test_one_reason_once() -> None:
    cv = {m: max(round(statistics.stdev(s) / statistics.mean(s) * 100) for s in pair)
          for m, pair in NOISY.items()}
    assert cv == {"m": 30, "n": 38}
    a = analyse(report(
        environment("native", *(in_rounds(m, base) for m, (base, _) in NOISY.items())),
        environment("guest", *(in_rounds(m, other) for m, (_, other) in NOISY.items())),
        conclusions=[ConclusionItem("Both", ("m", "n"), "")]))
    assert [(c.metric_id, c.verdict, c.rule) for c in a.comparisons] == [
        ("m", "inconclusive", "noise"), ("n", "inconclusive", "noise")]
    formats = pages(a)
    for m in NOISY:
        reason = f"samples vary by {cv[m]}%: the difference is within the noise"
        (line,) = [x for x in logical_lines(render_text.render(a)) if x.startswith(f"- {m}: ")]
        assert line.endswith(f"): inconclusive ({reason})")
        # said once: no "unstable samples" repeating the same spread
        assert flat(line).count("%") == 1 + flat(line).count("95% interval"), line
        assert f"inconclusive ({reason})" in formats["md"]
    both = "2 of 2 inconclusive: samples vary by 30% to 38%: the differences are within the noise"
    assert f"- Both: {both}" in formats["txt"] and f"- Both: {both}" in formats["md"]
    assert f"{both}</span>" in formats["page"]


def test_several_rules_are_each_said_once_with_their_counts() -> None:
    """m scatters (CV 30%, worked out above) over five rounds; c has three
    rounds a side: one inconclusive by each rule."""
    base, other = NOISY["m"]
    a = analyse(report(environment("native", in_rounds("m", base), in_rounds("c", [10] * 3)),
                       environment("guest", in_rounds("m", other), in_rounds("c", [40] * 3))))
    line = ("2 of 2 inconclusive: 1 with too few rounds (3 rounds, need >= 5); "
            "1 within the noise (samples vary by 30%)")
    assert a.headline.envs[0].undecided == line
    assert line in pages(a)["txt"] and card(a).undecided == (line,)
