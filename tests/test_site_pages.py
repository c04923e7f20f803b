"""The site's own pages: the index's history of shared metrics, 404.html, and
sitemap.xml and the Atom feed when site.yml sets base_url."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reportgen.core.cards import Card, CardMetric
from reportgen.core.model import Site
from reportgen.render.html import Links, history, render_index, render_not_found
from reportgen.site import feeds, linkcheck
from reportgen.site import reports as render
from tests.test_html_security import HOSTILE, assert_inert
from tests.test_html_support import parse

BASE = "https://example.org/bench/"
NS = {"a": feeds.ATOM, "s": feeds.SITEMAP}


def metric(metric_id: str, median: float, env: str = "guest", name: str = "") -> CardMetric:
    slowdown = median / 100
    label = "same" if slowdown < 1.03 else f"+{round((slowdown - 1) * 100)}%"
    tier = "negligible" if slowdown < 1.15 else "moderate"
    verdict, words = ("same", "same") if label == "same" else ("worse", f"{label[1:]} longer")
    return CardMetric(metric_id, name or metric_id.upper(), "ns", env, 100.0, median,
                      slowdown, label, tier, verdict, words)


def make_card(slug: str, date: str, *metrics: CardMetric, title: str = "",
              author: str = "A. Author") -> Card:
    envs = ("native",) + tuple(dict.fromkeys(m.env for m in metrics))
    return Card(slug, title or f"Report {slug}", date, author, "native", envs, metrics)


def cards() -> list[Card]:
    """x.y is shared by three reports in guest; kvm and the only.* metrics are not."""
    return [
        make_card("a", "2026-01-10", metric("x.y", 150), metric("only.a", 120)),
        make_card("b", "2026-03-01", metric("x.y", 110, name="X, renamed"),
                  metric("x.y", 300, env="kvm")),
        make_card("c", "2026-02-05", metric("x.y", 130), metric("only.c", 400)),
    ]


def index(cs: list[Card], feed: str = "") -> str:
    return render_index("Site", cs, {c.slug: Links(("txt",), ()) for c in cs}, feed=feed)


def site_config(tmp_path: Path, base_url: str = BASE, title: str = "Site") -> Site:
    out = tmp_path / "output"
    return Site(title, base_url, (), ("html", "txt"), out, out / "archive", tmp_path)


def build_pages(tmp_path: Path, cs: list[Card], base_url: str = BASE, title: str = "Site",
                stage: str = "stage") -> Path:
    target = tmp_path / stage
    target.mkdir()
    render.site(cs, site_config(tmp_path, base_url, title), target)
    return target


# --- the history view --------------------------------------------------------------

def test_history_shows_only_metrics_shared_in_the_same_environment() -> None:
    views = history(cards())
    assert [v.id for v in views] == ["x.y"]
    view = views[0]
    assert view.anchor == "m-x-y"
    assert view.name == "X, renamed"  # as the newest report names it
    # oldest first; kvm is measured by one report only, so it is left out
    assert [(r.card.slug, r.metric.env) for r in view.rows] == [
        ("a", "guest"), ("c", "guest"), ("b", "guest")]
    assert [r.href for r in view.rows] == ["a/index.html", "c/index.html", "b/index.html"]


def test_history_section_follows_the_report_list_in_date_order() -> None:
    html = index(cards())
    section = html[html.index('<section id="history"'):]
    assert html.index('<section class="entry">') < html.index('<section id="history"')
    assert '<h3 id="m-x-y">' in section
    assert "m-only-a" not in html and "m-only-c" not in html
    rows = re.findall(r'<tr role="row"><th scope="row" role="rowheader"><a href="([^"]+)"', section)
    assert rows == ["a/index.html", "c/index.html", "b/index.html"]
    # medians with their units, the slowdown, and the label as a badge in its
    # verdict's colour, with the verdict in words
    assert ('<td class="num" data-label="Baseline median" role="cell">100 ns</td>'
            '<td class="num" data-label="Median" role="cell">150 ns</td>') in section
    assert '<td class="num" data-label="Slowdown" role="cell">1.50x</td>' in section
    assert ('<span class="badge verdict-worse tier-moderate"><span class="visually-hidden">'
            'worse, moderate: </span>+50%</span> <span class="reason">worse, moderate</span>'
            ) in section
    assert '<a href="#history">' in html and '<a href="#m-x-y">' in section


def test_history_is_left_out_when_no_metric_is_shared() -> None:
    alone = [make_card("a", "2026-01-10", metric("x.y", 150)),
             make_card("b", "2026-02-10", metric("x.y", 150, env="kvm"), metric("z", 120))]
    assert history(alone) == []
    html = index(alone)
    assert 'id="history"' not in html and "#history" not in html
    assert history([make_card("a", "2026-01-10", metric("x.y", 150))]) == []


def test_history_does_not_depend_on_the_order_of_the_cards() -> None:
    cs = cards()
    assert index(cs) == index(list(reversed(cs)))


def test_history_anchors_are_unique_and_resolve(tmp_path: Path) -> None:
    cs = [make_card(s, d, metric("memory.sysbench.read.tN", 150), metric("memory.dd_zero", 120))
          for s, d in (("a", "2026-01-01"), ("b", "2026-02-01"))]
    page = tmp_path / "index.html"
    page.write_text(index(cs))
    ids = linkcheck.scan(page).ids
    assert {"history", "m-memory-sysbench-read-tN", "m-memory-dd_zero"} <= ids
    fragments = [u for u, _l, _c in linkcheck.scan(page).links if u.startswith("#")]
    assert fragments and all(f[1:] in ids for f in fragments)


def test_hostile_titles_names_and_labels_are_escaped_in_the_history() -> None:
    cs = [make_card(s, d, CardMetric("x.y", HOSTILE, HOSTILE, HOSTILE, 1.0, 2.0, 2.0, HOSTILE,
                                     "moderate", "worse", HOSTILE), title=HOSTILE, author=HOSTILE)
          for s, d in (("a", "2026-01-01"), ("b", "2026-02-01"))]
    html = index(cs)
    assert 'id="history"' in html
    doc = assert_inert(html)
    assert HOSTILE in doc.text_of("h3")
    assert HOSTILE in doc.text_of("table")


# --- sitemap.xml and feed.xml ------------------------------------------------------

def test_feed_and_sitemap_are_written_only_with_a_base_url(tmp_path: Path) -> None:
    without = build_pages(tmp_path, cards(), base_url="", stage="plain")
    assert sorted(p.name for p in without.iterdir()) == ["404.html", "index.html"]
    assert "feed.xml" not in (without / "index.html").read_text()
    with_url = build_pages(tmp_path, cards())
    assert sorted(p.name for p in with_url.iterdir()) == [
        "404.html", "feed.xml", "index.html", "sitemap.xml"]
    head = (with_url / "index.html").read_text().split("</head>")[0]
    assert '<link rel="alternate" type="application/atom+xml" title="Site" href="feed.xml">' in head


def test_sitemap_lists_the_index_and_every_report_with_its_date(tmp_path: Path) -> None:
    stage = build_pages(tmp_path, cards())
    root = ET.parse(stage / "sitemap.xml").getroot()
    assert root.tag == f"{{{feeds.SITEMAP}}}urlset"
    urls = [(u.findtext("s:loc", namespaces=NS), u.findtext("s:lastmod", namespaces=NS))
            for u in root.findall("s:url", NS)]
    assert urls == [(BASE, "2026-03-01"), (BASE + "b/", "2026-03-01"),
                    (BASE + "c/", "2026-02-05"), (BASE + "a/", "2026-01-10")]


def test_feed_has_one_entry_per_report_with_absolute_urls(tmp_path: Path) -> None:
    stage = build_pages(tmp_path, cards())
    feed = ET.parse(stage / "feed.xml").getroot()
    assert feed.tag == f"{{{feeds.ATOM}}}feed"
    assert feed.findtext("a:id", namespaces=NS) == BASE
    assert feed.findtext("a:updated", namespaces=NS) == "2026-03-01T00:00:00Z"
    self_link = feed.find("a:link[@rel='self']", NS)
    assert self_link is not None and self_link.get("href") == BASE + "feed.xml"
    entries = feed.findall("a:entry", NS)
    assert [e.findtext("a:id", namespaces=NS) for e in entries] == [
        BASE + "b/", BASE + "c/", BASE + "a/"]
    for entry in entries:
        link = entry.find("a:link", NS)
        assert link is not None and link.get("href") == entry.findtext("a:id", namespaces=NS)
        assert entry.findtext("a:title", namespaces=NS, default="").startswith("Report ")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", entry.findtext("a:updated",
                                                                       namespaces=NS, default=""))
        assert entry.findtext("a:author/a:name", namespaces=NS) == "A. Author"
    summary = entries[0].find("a:summary", NS)
    assert summary is not None and summary.get("type") == "text"
    assert summary.text == ("Largest slowdowns against native: "
                            "X.Y in kvm: 200% longer (3.00x); X, renamed in guest: 10% longer "
                            "(1.10x).")


def test_feed_names_the_site_as_author_when_a_report_has_none() -> None:
    feed = ET.fromstring(feeds.atom("My site", BASE, [make_card("a", "2026-01-01", author="")]))
    assert feed.findtext("a:author/a:name", namespaces=NS) == "My site"
    assert feed.find("a:entry/a:author", NS) is None


def test_feeds_hold_no_clock_and_do_not_depend_on_card_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_pages(tmp_path, cards(), stage="one")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    second = build_pages(tmp_path, list(reversed(cards())), stage="two")
    for name in ("feed.xml", "sitemap.xml", "index.html", "404.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    times = re.findall(rb"<(?:updated|lastmod)>([^<]*)<", (first / "feed.xml").read_bytes()
                       + (first / "sitemap.xml").read_bytes())
    assert set(times) <= {b"2026-01-10T00:00:00Z", b"2026-02-05T00:00:00Z",
                          b"2026-03-01T00:00:00Z", b"2026-01-10", b"2026-02-05", b"2026-03-01"}


def test_a_site_without_reports_still_has_well_formed_feeds() -> None:
    feed = ET.fromstring(feeds.atom("Empty", BASE, []))
    assert feed.findtext("a:updated", namespaces=NS) == "1970-01-01T00:00:00Z"
    urls = ET.fromstring(feeds.sitemap(BASE, [])).findall("s:url", NS)
    assert [u.findtext("s:loc", namespaces=NS) for u in urls] == [BASE]


def test_hostile_titles_are_escaped_in_the_feed(tmp_path: Path) -> None:
    nasty = HOSTILE + "]]><!-- \x01\x1b\ufffe end"
    hostile = [make_card("a", "2026-01-01", metric("x.y", 150, name=nasty), title=nasty,
                         author=nasty),
               make_card("odd slug&<>", "2026-01-02", metric("x.y", 150), title="plain")]
    stage = build_pages(tmp_path, hostile, title=nasty)
    raw = (stage / "feed.xml").read_bytes()
    assert b"<script" not in raw and b"<img" not in raw and b"\x01" not in raw
    feed = ET.fromstring(raw)  # well-formed despite control characters
    shown = nasty.replace("\x01", "\ufffd").replace("\x1b", "\ufffd").replace("\ufffe", "\ufffd")
    assert feed.findtext("a:title", namespaces=NS) == shown
    entries = feed.findall("a:entry", NS)
    assert entries[1].findtext("a:title", namespaces=NS) == shown
    assert entries[1].findtext("a:author/a:name", namespaces=NS) == shown
    assert shown in entries[1].findtext("a:summary", namespaces=NS, default="")
    assert entries[0].findtext("a:id", namespaces=NS) == BASE + "odd%20slug%26%3C%3E/"
    sitemap = ET.parse(stage / "sitemap.xml").getroot()
    locs = [u.findtext("s:loc", namespaces=NS, default="") for u in sitemap.findall("s:url", NS)]
    assert all(urlsplit(loc).netloc == "example.org" and " " not in loc for loc in locs)
    head = (stage / "index.html").read_text().split("</head>")[0]
    assert "<script" not in head and 'title="&lt;script&gt;' in head


@pytest.mark.parametrize("given", ["https://example.org/bench", "https://example.org/bench/"])
def test_base_url_is_taken_as_a_folder(given: str) -> None:
    assert feeds.base(given) == BASE
    assert feeds.page_url(given, make_card("r", "2026-01-01")) == BASE + "r/"


@pytest.mark.parametrize("given", ["example.org/bench", "/bench/", "ftp://example.org/",
                                   "javascript:alert(1)", "https://example.org/?a=1",
                                   "https:///nohost"])
def test_a_base_url_that_is_not_a_web_folder_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="base_url must be an http"):
        feeds.base(given)


# --- 404.html ----------------------------------------------------------------------

def test_404_page_exists_with_relative_links_that_resolve(tmp_path: Path) -> None:
    stage = build_pages(tmp_path, [], base_url="")
    page = stage / "404.html"
    assert page.is_file()
    doc = parse(page.read_text())
    links = [a.get("href") or "" for tag, a in doc.tags if tag in ("a", "link")]
    assert links == ["style.css", "index.html"]
    assert all(not urlsplit(u).scheme and not u.startswith("/") for u in links)
    (stage / "style.css").write_text("")  # written by render.assets in a real build
    assert [p for p in linkcheck.check(stage) if p.path == "404.html"] == []
    assert '<meta name="robots" content="noindex">' in page.read_text()


def test_404_page_escapes_the_site_title() -> None:
    doc = assert_inert(render_not_found(HOSTILE))
    assert HOSTILE in doc.text_of("title")


def test_the_index_refuses_a_feed_link_that_leaves_the_site() -> None:
    with pytest.raises(ValueError, match="link must be relative"):
        index(cards(), feed="https://elsewhere.example/feed.xml")


# --- a real build ------------------------------------------------------------------

def test_a_built_site_has_history_feed_sitemap_and_404(tmp_path: Path) -> None:
    from tests.test_site_build import project, run

    root = project(tmp_path, formats="html, txt", reports=2)
    site_yml = root / "site.yml"
    site_yml.write_text(site_yml.read_text() + f"base_url: {BASE}\n")
    result = run(root)
    # none from the link check; the base results' single round, in each report
    assert [w.message[:40] for w in result.warnings] == [
        "verdicts need at least 5 rounds per envi"] * 2
    out = root / "output"
    html = (out / "index.html").read_text()
    assert 'id="history"' in html and 'href="feed.xml"' in html
    sitemap = ET.parse(out / "sitemap.xml").getroot()
    assert [u.findtext("s:loc", namespaces=NS) for u in sitemap.findall("s:url", NS)] == [
        BASE, BASE + "r1/", BASE + "r/"]
    assert len(ET.parse(out / "feed.xml").getroot().findall("a:entry", NS)) == 2
    assert (out / "404.html").is_file()
