"""Check that every internal link and anchor of a built site resolves.

Runs over the staging directory before it is swapped in; a broken link is a
warning (an error with ``--strict``) that names the page, line and column.
Pages carried over unchanged (an unchanged report's; the index and 404 page
when nothing they show changed) are not read again: their ids and links are
kept in the build manifest, and only resolved again.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from reportgen.core.errors import Problem

LINK_ATTRS = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
              ("source", "src"), ("object", "data")}


_SEPARATOR = "\n"  # between a stored page's ids: no HTML id holds a newline


@dataclass
class Page:
    """A page's ids (anchors) and links.  The manifest stores the ids as one
    string, unpacked only for a page a link points into: a report page has
    hundreds (its charts'), and reading them all into sets was most of
    loading a large site's manifest."""

    packed: str | list[str] = ""  # the ids as stored, until unpacked
    links: list[tuple[str, int, int]] = field(default_factory=list)  # url, line, col
    _ids: set[str] | None = field(default=None, repr=False, compare=False)

    @property
    def ids(self) -> set[str]:
        if self._ids is None:
            packed = self.packed
            self._ids = set(packed if isinstance(packed, list)
                            else packed.split(_SEPARATOR) if packed else ())
        return self._ids

    def has(self, anchor: str) -> bool:
        """Whether the page has the id ``anchor``: in the stored string when
        the ids were not unpacked (a page's links into itself, one lookup each,
        would otherwise unpack every carried page)."""
        if self._ids is None and isinstance(self.packed, str) and _SEPARATOR not in anchor:
            return bool(anchor) and f"{_SEPARATOR}{anchor}{_SEPARATOR}" in (
                f"{_SEPARATOR}{self.packed}{_SEPARATOR}")
        return anchor in self.ids

    def to_json(self) -> dict[str, Any]:
        ids = sorted(self.ids)
        listed = any(_SEPARATOR in i or not i for i in ids)  # then they cannot be joined
        return {"ids": ids if listed else _SEPARATOR.join(ids),
                "links": [list(link) for link in self.links]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Page:
        packed = data["ids"]
        return cls(packed if isinstance(packed, str) else list(packed),
                   [(u, line, col) for u, line, col in data["links"]])


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, col = self.getpos()
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.page.ids.add(value)
            if (tag, name) in LINK_ATTRS:
                self.page.links.append((value, line, col + 1))


def scan(path: Path) -> Page:
    return scan_text(path.read_text(encoding="utf-8"))


def scan_text(html: str) -> Page:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.page


def missing_anchors(html: str, shown: str) -> tuple[Problem, ...]:
    """In-page links of ``html`` to an anchor it lacks, as the link check
    words them, for a page only a PDF is made from (``shown``: the PDF's path
    in the site); at line 1, column 1, as a PDF has no lines."""
    page = scan_text(html)
    name = shown.rsplit("/", 1)[-1]
    return tuple(Problem(shown, 1, 1, f"broken link '{url}': no anchor '#{parts.fragment}' in "
                         f"{name}", warning=True)
                 for url, _line, _col in page.links
                 for parts in [urlsplit(url)]
                 if not (parts.scheme or parts.netloc or parts.path) and parts.fragment
                 and unquote(parts.fragment) not in page.ids)


def pages(root: Path, known: Mapping[str, Page] | None = None) -> dict[str, Page]:
    """Every HTML page under ``root``, by its path relative to ``root``.

    A folder with pages in ``known`` (a report carried over unchanged: the very
    files the previous build checked) is taken from there without reading it;
    every other page is read and scanned."""
    known = known or {}
    folders = {rel.split("/", 1)[0] for rel in known}
    found = dict(known)
    for entry in sorted(root.iterdir()):
        if entry.name in folders:
            continue
        paths = sorted(entry.rglob("*.html")) if entry.is_dir() else [entry]
        for path in paths:
            if path.suffix == ".html" and path.is_file():
                found[path.relative_to(root).as_posix()] = scan(path)
    return found


def check(root: Path, extra_roots: tuple[Path, ...] = (),
          scanned: Mapping[str, Page] | None = None) -> list[Problem]:
    """Broken internal links of every HTML page under ``root`` (``scanned``:
    the pages as :func:`pages` found them).

    A link may also point into one of ``extra_roots`` (the PDF archive when it
    lives outside the output).
    """
    listed = pages(root) if scanned is None else scanned
    where = os.path.abspath(root)
    targets = _Targets([where, *map(os.path.abspath, extra_roots)],
                       {posixpath.join(where, rel): page for rel, page in listed.items()})
    problems = []
    # in pathlib's order (by component), without a Path per page
    for rel in sorted(listed, key=lambda rel: [p for p in rel.split("/") if p not in ("", ".")]):
        path = posixpath.join(where, rel)
        folder = posixpath.dirname(path)
        reasons: dict[str, str] = {}  # a page repeats its links (a metric's anchor, often)
        for url, line, col in listed[rel].links:
            if url not in reasons:
                reasons[url] = targets.broken(path, folder, url)
            if reasons[url]:
                problems.append(Problem(rel, line, col, f"broken link '{url}': {reasons[url]}",
                                        warning=True))
    return problems


class _Targets:
    """What the links of a site lead to, each looked up once per check: a
    site's pages share most of their links and targets (the style sheet, the
    index, the anchors of the same metrics), and in a site of 200 reports,
    parsing, joining and looking up each link anew was most of the check."""

    def __init__(self, roots: list[str], pages: dict[str, Page]) -> None:
        self.roots = set(roots)  # absolute: the site's and those a link may also lead into
        self.inside = tuple(r.rstrip("/") + "/" for r in roots)  # what lies below them starts so
        self.pages = pages  # by absolute path
        self.parts: dict[str, tuple[SplitResult, str]] = {}  # by url: split, path unquoted
        self.found: dict[str, tuple[str, str]] = {}  # joined path -> (reason, target)
        self.read: dict[str, Page | None] = {}  # by target; None: not an HTML page

    def broken(self, page: str, folder: str, url: str) -> str:
        """Why ``url`` on ``page`` (in ``folder``) is broken, or ""."""
        if url not in self.parts:
            split = urlsplit(url)
            self.parts[url] = split, unquote(split.path)
        parts, unquoted = self.parts[url]
        if parts.scheme or parts.netloc:
            web = parts.scheme in ("http", "https", "mailto")
            return "" if web else "not a link within the site"
        target = page
        if parts.path:
            if parts.path.startswith("/"):
                return "absolute paths break when the site is opened from a folder"
            joined = posixpath.normpath(posixpath.join(folder, unquoted))
            if joined not in self.found:
                self.found[joined] = self._resolve(joined)
            reason, target = self.found[joined]
            if reason:
                return reason
        if parts.fragment:
            found = self._page(target)
            if found is not None and not found.has(unquote(parts.fragment)):
                return f"no anchor '#{parts.fragment}' in {posixpath.basename(target)}"
        return ""

    def _resolve(self, joined: str) -> tuple[str, str]:
        """(why it is broken or "", the file it leads to) for a link's path."""
        if joined not in self.roots and not joined.startswith(self.inside):
            return "points outside the site", joined
        try:  # one stat for both questions: a folder (then its index.html), a file
            mode = os.stat(joined).st_mode
        except (OSError, ValueError):
            return "no such file", joined
        if stat.S_ISDIR(mode):
            target = posixpath.join(joined, "index.html")
            return ("" if os.path.isfile(target) else "no such file"), target
        return ("" if stat.S_ISREG(mode) else "no such file"), joined

    def _page(self, target: str) -> Page | None:
        """The page ``target`` (its ids), read unless it is one of the pages;
        None when it is not an HTML page."""
        if target not in self.read:
            self.read[target] = (None if PurePosixPath(target).suffix != ".html"
                                 else self.pages.get(target) or scan(Path(target)))
        return self.read[target]
