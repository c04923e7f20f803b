"""Check that every internal link and anchor of a built site resolves.

Runs over the staging directory before it is swapped in; a broken link is a
warning (an error with ``--strict``) that names the page, line and column.
Pages of reports carried over unchanged are not read again: their ids and
links are kept in the build manifest, and only resolved again.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from reportgen.core.errors import Problem

LINK_ATTRS = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
              ("source", "src"), ("object", "data")}


@dataclass
class Page:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, int, int]] = field(default_factory=list)  # url, line, col

    def to_json(self) -> dict[str, Any]:
        return {"ids": sorted(self.ids), "links": [list(link) for link in self.links]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Page:
        return cls(set(data["ids"]), [(u, line, col) for u, line, col in data["links"]])


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
    found = {root / rel: listed[rel] for rel in sorted(listed, key=lambda rel: Path(rel))}
    problems = []
    for path, page in found.items():
        for url, line, col in page.links:
            reason = _broken(root, path, url, found, extra_roots)
            if reason:
                shown = path.relative_to(root).as_posix()
                problems.append(Problem(shown, line, col, f"broken link '{url}': {reason}",
                                        warning=True))
    return problems


def _broken(root: Path, page: Path, url: str, pages: dict[Path, Page],
            extra_roots: tuple[Path, ...]) -> str:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "" if parts.scheme in ("http", "https", "mailto") else "not a link within the site"
    if not parts.path:
        target = page
    else:
        if parts.path.startswith("/"):
            return "absolute paths break when the site is opened from a folder"
        joined = posixpath.normpath(posixpath.join(page.parent.as_posix(), unquote(parts.path)))
        target = Path(joined)
        inside = target.is_relative_to(root) or any(target.is_relative_to(r) for r in extra_roots)
        if not inside:
            return "points outside the site"
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return "no such file"
    if parts.fragment and target.suffix == ".html":
        ids = pages[target].ids if target in pages else scan(target).ids
        if unquote(parts.fragment) not in ids:
            return f"no anchor '#{parts.fragment}' in {target.name}"
    return ""
