"""Meaning before sign: a badge is coloured by its verdict and says it in words.

The page's badges keep the analysis's text (+8%, ~4x, same, guest faster, ?),
are coloured by the verdict (and a worse one by its tier), and carry the
verdict in words for anyone who cannot tell the colours apart.  How they look
at each width is tests/test_browser.py's part.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from reportgen.analyse.analysis import Analysis, BadgePart, analyse, card
from reportgen.analyse.compare import VERDICTS, Comparison
from reportgen.core import resources
from reportgen.read import report_yml
from reportgen.render import html
from reportgen.render.html import Links, render_index, render_report
from tests.test_html_support import parse

FOUR_ENV = Path(__file__).resolve().parent / "fixtures" / "four-env" / "reports" / "four-env"


@pytest.fixture(scope="module")
def four() -> Analysis:
    """native against kvm, bhyve and tcg: every verdict but not comparable."""
    return analyse(report_yml.load_report(FOUR_ENV).report)


def badges(page: str) -> list[tuple[str, str]]:
    """(class, text) of every badge on a page, its hidden words included."""
    return [(cls, re.sub(r"<[^>]+>", "", inner)) for cls, inner in re.findall(
        r'<span class="(badge [^"]*)"[^>]*>((?:<span class="visually-hidden">[^<]*</span>)?'
        r"[^<]*)</span>", page)]


def test_four_env_has_every_verdict_but_not_comparable(four: Analysis) -> None:
    verdicts = {c.verdict for c in four.comparisons}
    assert verdicts == {"worse", "better", "same", "inconclusive"}
    tiers = {c.tier for c in four.comparisons if c.verdict == "worse"}
    assert tiers == {"negligible", "moderate", "severe"}


def test_every_badge_is_coloured_by_its_verdict_and_says_it(four: Analysis) -> None:
    page = render_report(four, [], Links((), ()))
    found = badges(page)
    assert found
    for cls, text in found:
        verdict = re.search(r"\bverdict-([a-z-]+)", cls)
        tier = re.search(r"\btier-([a-z-]+)", cls)
        assert verdict and tier, cls
        words = html.verdict_words(verdict[1], tier[1])
        assert text == words or text.startswith(words + ": "), (cls, text)


def test_a_small_slowdown_is_not_painted_as_fine(four: Analysis) -> None:
    """-5% of a throughput is worse however small: never in better's green."""
    c = next(c for c in four.comparisons if c.verdict == "worse" and c.tier == "negligible")
    page = render_report(four, [], Links((), ()))
    assert (f'<span class="badge verdict-worse tier-negligible"><span class="visually-hidden">'
            f'worse, negligible: </span>{c.label}</span> <span class="reason">worse, negligible'
            f'</span>') in page
    faster = next(c for c in four.comparisons if c.verdict == "better")
    assert (f'<span class="badge verdict-better tier-negligible"><span class="visually-hidden">'
            f'better: </span>{faster.label}</span>') in page


def test_the_page_the_pdf_is_made_from_has_no_hidden_words(four: Analysis) -> None:
    """WeasyPrint cannot hide text from sight and keep it in its line: leave it out."""
    assert "visually-hidden" in render_report(four, [], Links((), ()))
    pdf_page = render_report(four, [], Links((), ()), for_pdf=True)
    assert "visually-hidden" not in pdf_page
    assert 'class="badge verdict-worse tier-severe"' in pdf_page


def _with(c: Comparison, verdict: str, tier: str) -> Comparison:
    return dataclasses.replace(c, verdict=verdict, tier=tier)  # type: ignore[arg-type]


def test_worst_verdict_puts_any_cost_first(four: Analysis) -> None:
    c = four.comparisons[0]
    worst = html.worst_verdict
    assert worst([]) == ("none", "none")
    assert worst([_with(c, "better", "negligible"), _with(c, "same", "negligible")]) == \
        ("same", "negligible")
    assert worst([_with(c, "same", "negligible"), _with(c, "inconclusive", "inconclusive"),
                  _with(c, "not-comparable", "not-comparable")]) == \
        ("not-comparable", "not-comparable")
    # A known cost outweighs a result that cannot tell, and the worst tier wins.
    assert worst([_with(c, "inconclusive", "inconclusive"), _with(c, "worse", "negligible"),
                  _with(c, "worse", "severe"), _with(c, "worse", "moderate")]) == \
        ("worse", "severe")


def test_the_authors_badge_takes_the_worst_verdict_of_its_section(four: Analysis) -> None:
    section = next(s for s in four.sections if len(s.parts) > 3)
    typed = dataclasses.replace(section, parts=(BadgePart("", "as typed", "moderate"),))
    ((env, (badge,)),) = html.badge_groups(typed, four.report)
    assert (env, badge.text) == ("", "as typed")
    assert (badge.verdict, badge.tier) == html.worst_verdict(
        [c for m in section.metrics for c in m.comparisons])
    # Composed: each part its own comparison's verdict, in the report's order.
    composed = [b for _, group in html.badge_groups(section, four.report) for b in group]
    every = [c for m in section.metrics for c in m.comparisons]
    own = [html.worst_verdict([c for c in every if (c.env, c.metric_id) == (env.label, metric.id)])
           for env in four.report.others for metric in section.metrics]
    assert [(b.verdict, b.tier) for b in composed] == own


def test_the_index_keeps_each_verdict_on_the_card(four: Analysis) -> None:
    by_key = {(c.metric_id, c.env): c.verdict for c in four.comparisons}
    for m in card(four).metrics:
        assert m.verdict == by_key[m.id, m.env], m
    page = render_index("Site", [card(four)], {})
    doc = parse(page)
    assert "worse, severe" in doc.text_of("table")


def test_every_verdict_has_a_colour_of_readable_contrast() -> None:
    css = resources.site_assets()["style.css"].decode()
    for verdict in (*VERDICTS, "none"):
        assert f".verdict-{verdict}.badge" in css, verdict
    colours = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", css))
    for ink, ground in [("moderate-ink", "paper"), ("moderate-ink", "moderate-wash"),
                        ("severe-ink", "severe-wash"), ("negligible-ink", "negligible-wash"),
                        ("same-ink", "same-wash"), ("untiered-ink", "untiered-wash"),
                        ("muted", "wash"), ("muted", "paper")]:
        assert _contrast(colours[ink], colours[ground]) >= 4.5, (ink, ground)


def _contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(("note", "glued"), [
    ("CV 26%, 1 outlier", "CV&nbsp;26%, 1&nbsp;outlier"),
    ("inconclusive (p = 0.44)", "inconclusive (p&nbsp;=&nbsp;0.44)"),
    ("inconclusive (3 rounds, need >= 5)", "inconclusive (3&nbsp;rounds, need&nbsp;&gt;=&nbsp;5)"),
    ("interval reaches past ±3.00%", "interval reaches past&nbsp;±3.00%"),
    ("<b>bold</b> = 1", "&lt;b&gt;bold&lt;/b&gt;&nbsp;=&nbsp;1"),
])
def test_a_note_wraps_between_its_figures_never_inside_one(note: str, glued: str) -> None:
    assert str(html.glue_figures(note)) == glued
