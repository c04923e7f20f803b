"""Untrusted text stays text: author Markdown, results strings, titles."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

import pytest

from reportgen.analyse.analysis import Analysis, analyse, card
from reportgen.core.model import ConclusionItem, Report, SystemRow
from reportgen.render import charts
from reportgen.render.html import Links, render_index, render_report
from tests.test_html_support import Collector, parse, report, strip_charts, text

ATTACKS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "[also](JaVaScRiPt:alert(1)) and <a href=\"javascript:alert(1)\">raw link</a>",
    "<div onclick=\"alert(1)\">raw block</div>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "![pic](javascript:alert(1))",
    "\"><svg onload=alert(1)>",
)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>\"'&"


# Every attribute our templates write; anything else came from input.
ATTRIBUTES = {"lang", "charset", "name", "content", "rel", "href", "src", "alt", "class", "id",
              "scope", "colspan", "datetime", "role", "aria-label", "aria-labelledby", "tabindex",
              "data-label"}
TAG_WITH_HANDLER = re.compile(r"<[^>]*\bon[a-z]+\s*=", re.IGNORECASE)


def assert_inert(html: str) -> Collector:
    """No script, no handler, no foreign attribute, no URL with a scheme; the inline
    charts are checked by strip_charts, then left out."""
    html = strip_charts(html)
    doc = parse(html)
    for tag, attrs in doc.tags:
        assert tag not in ("script", "iframe", "object", "embed", "style"), tag
        assert tag != "svg" or not attrs, attrs
        assert set(attrs) <= ATTRIBUTES, (tag, attrs)
        for name in ("href", "src"):
            url = (attrs.get(name) or "").strip()
            assert not urlsplit(url).scheme and not url.startswith("/"), (tag, url)
    assert "<script" not in html.lower()
    # Escaped output has a literal " only around attribute values: blank those out
    # so that text such as alt="... onerror=..." is not taken for a handler.
    assert not TAG_WITH_HANDLER.search(re.sub(r'"[^"]*"', '""', html))
    return doc


def build(r: Report) -> tuple[Analysis, str]:
    a = analyse(r)
    drawn = charts.section_charts(a) + [charts.overview_chart(a)]
    return a, render_report(a, drawn, Links(("pdf",), tuple(e.file_name for e in r.environments)))


@pytest.mark.parametrize("attack", ATTACKS)
def test_analysis_markdown_is_inert(attack: str) -> None:
    _, html = build(report(analysis=f"Before. {attack} After."))
    doc = assert_inert(html)
    assert "Before." in doc.text_of("p")


def test_raw_html_is_shown_as_text() -> None:
    _, html = build(report(analysis="<script>alert(1)</script>"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_javascript_link_is_not_a_link() -> None:
    _, html = build(report(analysis="[click me](javascript:alert(1))"))
    assert "javascript:" not in html.lower().replace("[click me](javascript:alert(1))", "")


def test_hostile_results_strings_are_escaped() -> None:
    system = {"cpu_model": HOSTILE, "hostname": HOSTILE, "kernel": HOSTILE, "os": HOSTILE}
    r = report(("native", "guest"), system={"guest": system},
               analysis="The guest CPU is {{ system.guest.cpu_model }} on {{ system.guest.hostname }}.")
    r = dataclasses.replace(r, system=(SystemRow("CPU", text("{{ system.guest.cpu_model }}")),))
    _, html = build(r)
    doc = assert_inert(html)
    assert HOSTILE in doc.text_of("td")  # shown in the spec table, as text
    assert HOSTILE in doc.text_of("p")  # and in the prose, through the placeholder
    assert "&lt;script&gt;" in html


def test_hostile_titles_names_and_notes_are_escaped() -> None:
    r = report(title=HOSTILE)
    sections = tuple(dataclasses.replace(s, title=HOSTILE) for s in r.sections)
    conclusions = tuple(ConclusionItem(HOSTILE, c.metrics, HOSTILE) for c in r.conclusions)
    r = dataclasses.replace(r, sections=sections, conclusions=conclusions, author=HOSTILE,
                            intro=text(HOSTILE), summary=text(HOSTILE),
                            keywords=(HOSTILE,))
    a, html = build(r)
    doc = assert_inert(html)
    assert doc.text_of("h1") == HOSTILE
    assert doc.text_of("title") == HOSTILE
    assert_inert(render_index(HOSTILE, [card(a)], {r.slug: Links(("pdf",), ())}))


def test_hostile_metric_names_in_alt_text_stay_in_the_attribute() -> None:
    r = report()
    envs = tuple(dataclasses.replace(e, metrics={k: dataclasses.replace(m, name=HOSTILE)
                                                 for k, m in e.metrics.items()})
                 for e in r.environments)
    _, html = build(dataclasses.replace(r, environments=envs))
    doc = assert_inert(html)
    assert all(HOSTILE in (a["alt"] or "") for t, a in doc.tags if t == "img")


def test_hostile_file_and_slug_names_stay_relative() -> None:
    a = analyse(dataclasses.replace(report(), slug="javascript:alert(1)"))
    html = render_index("x", [card(a)], {"javascript:alert(1)": Links(("pdf",), ("../../etc.json",))})
    doc = assert_inert(html)
    hrefs = [attrs["href"] for tag, attrs in doc.tags if tag == "a"]
    assert "javascript%3Aalert%281%29/data/..%2F..%2Fetc.json" in hrefs


@pytest.mark.parametrize("html", [
    '<p><img src=x onerror=alert(1)></p>',
    '<p><a href="javascript:alert(1)">x</a></p>',
    '<p><script>alert(1)</script></p>',
    '<p><span style="x">y</span></p>',
])
def test_the_checker_catches_live_markup(html: str) -> None:
    with pytest.raises(AssertionError):
        assert_inert(html)
