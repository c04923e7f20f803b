"""Which reports form a series, in which order, and what each report's output
depends on in the others.

Reports linked by ``follows:`` and the reports of one entry of site.yml's
``series:`` belong to one series (the links are joined: a report listed in
site.yml that another one follows makes one series of both).  A series is
ordered by date; reports of one date by how far down a chain of ``follows:``
they are, then by their place in site.yml's list, then by slug.  Each report
of a series is compared with the one before it (the *step*); a report that
follows another also shows that comparison ("Since ...").  So a report's
output depends on the inputs of the report before it and of the one it
follows: an edit of one report renders it again, the report after it and the
one that follows it, and the pages of its series.

This runs in the build's main process from what report.yml said when last
read (cache.Listed: follows and date), without loading any report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportgen.core.model import Site
from reportgen.read.follows import resolve

SERIES_DIR = "series"  # output/series/<id>/: one folder per series


@dataclass(frozen=True)
class Series:
    id: str  # the slug of its first report: output/series/<id>/
    title: str  # site.yml's title, or "" to take the first report's
    slugs: tuple[str, ...]  # in order


@dataclass(frozen=True)
class Links:
    """The site's series and, per report, the reports its output depends on."""

    series: tuple[Series, ...] = ()
    before: dict[str, str] = field(default_factory=dict)  # slug -> the report before it
    follows: dict[str, str] = field(default_factory=dict)  # slug -> the report it follows
    names: dict[str, str] = field(default_factory=dict)  # slug -> its `follows:` as written

    def of(self, slug: str) -> Series | None:
        return next((s for s in self.series if slug in s.slugs), None)

    def chained(self, slug: str, inputs: Mapping[str, str]) -> str:
        """What ``slug``'s output depends on in other reports: the inputs of
        the report before it and of the one it follows, and its series."""
        found = self.of(slug)
        parts = [found.id if found else ""]
        for other in (self.before.get(slug, ""), self.follows.get(slug, "")):
            parts += [other, inputs.get(other, "")]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def links(site: Site, listed: Mapping[str, Any]) -> Links:
    """The series of the site from report.yml's ``follows:`` and ``date`` as
    cache.report_files last read them, and site.yml's ``series:``."""
    dirs = {d.name: d for d in site.report_dirs}
    facts = {slug: (_fact(listed, slug, 2), _fact(listed, slug, 3)) for slug in dirs}
    follows = {}
    for slug, (name, _date) in facts.items():
        target = resolve(dirs[slug], name, site.report_dirs) if name else None
        if isinstance(target, Path) and target.name != slug:
            follows[slug] = target.name
    groups = _Groups(list(dirs))
    for slug, earlier in follows.items():
        groups.join(slug, earlier)
    place: dict[str, int] = {}
    titles: dict[str, str] = {}
    for spec in site.series:
        members = [s for s in spec.reports if s in dirs]
        for i, slug in enumerate(members):
            groups.join(members[0], slug)
            place[slug] = i
        if members:
            titles[members[0]] = spec.title
    found = []
    for members in groups.sets():
        listed_title = next((titles[s] for s in members if s in titles), "")
        if len(members) < 2 and not listed_title:
            continue
        order = sorted(members, key=lambda s: (facts[s][1], _depth(s, follows),
                                               place.get(s, 0), s))
        found.append(Series(order[0], listed_title, tuple(order)))
    found.sort(key=lambda s: s.id)
    before = {s.slugs[i]: s.slugs[i - 1] for s in found for i in range(1, len(s.slugs))}
    return Links(tuple(found), before, follows,
                 {slug: name for slug, (name, _date) in facts.items() if name})


def _fact(listed: Mapping[str, Any], slug: str, index: int) -> str:
    entry = listed.get(slug)
    return entry[index] if isinstance(entry, list) and len(entry) == 4 else ""


def _depth(slug: str, follows: Mapping[str, str]) -> int:
    """How many reports up the chain of ``follows:`` goes (a cycle stops it)."""
    seen = {slug}
    while slug in follows and follows[slug] not in seen:
        slug = follows[slug]
        seen.add(slug)
    return len(seen) - 1


class _Groups:
    """Union-find over slugs."""

    def __init__(self, slugs: list[str]) -> None:
        self.parent = {s: s for s in slugs}
        self.order = slugs

    def root(self, slug: str) -> str:
        while self.parent[slug] != slug:
            self.parent[slug] = self.parent[self.parent[slug]]
            slug = self.parent[slug]
        return slug

    def join(self, a: str, b: str) -> None:
        self.parent[self.root(a)] = self.root(b)

    def sets(self) -> list[list[str]]:
        found: dict[str, list[str]] = {}
        for slug in self.order:
            found.setdefault(self.root(slug), []).append(slug)
        return list(found.values())
