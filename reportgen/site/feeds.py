"""sitemap.xml and an Atom feed (feed.xml) for a site published at a base URL.

Both are written only when site.yml sets ``base_url``: they are the only files
of the site that hold absolute URLs, because crawlers and feed readers need
them.  They are made from the reports' cards alone (like the index), with the
report dates as the only times, so two builds of the same input give the same
bytes.  Every text goes through ElementTree, which escapes it; characters that
XML 1.0 cannot carry at all are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from reportgen.core import figures
from reportgen.core.cards import Card

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_FILE = "feed.xml"
SITEMAP_FILE = "sitemap.xml"
WORST_IN_FEED = 3  # slowdowns named in each entry's summary
# Used as the feed's time when the site has no report: never the clock.
NO_DATE = "1970-01-01"

# Everything outside XML 1.0's Char production (control characters, lone surrogates,
# U+FFFE/U+FFFF): ElementTree would write them and make the document ill-formed.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def base(base_url: str) -> str:
    """site.yml's base_url as the absolute URL of the site's folder (ends in ``/``)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"base_url must be an http(s) URL of the site's folder: {base_url!r}")
    return base_url if base_url.endswith("/") else base_url + "/"


def page_url(base_url: str, card: Card) -> str:
    """Absolute URL of a report's page (its folder; servers answer with index.html)."""
    return base(base_url) + quote(card.slug, safe="") + "/"


def newest_first(cards: Sequence[Card]) -> list[Card]:
    return sorted(cards, key=lambda c: (c.date, c.slug), reverse=True)


def sitemap(base_url: str, cards: Sequence[Card]) -> bytes:
    """The index and every report page, each with its report's date."""
    ordered = newest_first(cards)
    root = ET.Element("urlset", xmlns=SITEMAP)
    _url(root, base(base_url), ordered[0].date if ordered else "")
    for card in ordered:
        _url(root, page_url(base_url, card), card.date)
    return _serialize(root)


def _url(parent: ET.Element, loc: str, lastmod: str) -> None:
    url = ET.SubElement(parent, "url")
    _text(url, "loc", loc)
    if lastmod:
        _text(url, "lastmod", lastmod)


def atom(title: str, base_url: str, cards: Sequence[Card]) -> bytes:
    """An Atom feed with one entry per report, newest first."""
    home = base(base_url)
    ordered = newest_first(cards)
    feed = ET.Element("feed", xmlns=ATOM)
    _text(feed, "title", title)
    _text(feed, "id", home)
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=home)
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=home + FEED_FILE)
    _text(feed, "updated", _timestamp(ordered[0].date if ordered else NO_DATE))
    if not all(c.author for c in ordered):  # Atom: every entry needs an author
        _text(ET.SubElement(feed, "author"), "name", title)
    _text(feed, "generator", "reportgen")
    for card in ordered:
        url = page_url(base_url, card)
        entry = ET.SubElement(feed, "entry")
        _text(entry, "title", card.title)
        ET.SubElement(entry, "link", rel="alternate", type="text/html", href=url)
        _text(entry, "id", url)
        _text(entry, "updated", _timestamp(card.date))
        if card.author:
            _text(ET.SubElement(entry, "author"), "name", card.author)
        _text(entry, "summary", summary(card)).set("type", "text")
    return _serialize(feed)


def summary(card: Card) -> str:
    """The report's largest slowdowns and how many results are inconclusive,
    as its card on the site index gives them, in plain text."""
    worst = card.worst(WORST_IN_FEED)
    sentences = [f"{line}." for line in card.undecided]
    if worst:
        parts = [f"{m.name} in {m.env}: {m.words} ({figures.ratio(m.slowdown)})" for m in worst]
        sentences.insert(0, f"Largest slowdowns against {card.baseline}: " + "; ".join(parts) + ".")
    return " ".join(sentences) or card.quiet_note()


def _timestamp(date: str) -> str:
    """A report date (``YYYY-MM-DD``) as an RFC 3339 time, as Atom requires."""
    return f"{date}T00:00:00Z"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _NOT_XML.sub("\ufffd", text)
    return element


def _serialize(root: ET.Element) -> bytes:
    for element in root.iter():  # attribute values are text too
        for name, value in element.attrib.items():
            element.set(name, _NOT_XML.sub("\ufffd", value))
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"
