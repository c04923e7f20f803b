"""A series as its page and series.json show it, from its reports' points.

The points (analyse/series.py) are JSON kept in the build manifest; this
module only arranges them, so the build's main process makes the series
pages without numpy or any report loaded.  No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Point = dict[str, Any]
CHANGES = ("worse", "better")  # the step verdicts that are changes


@dataclass(frozen=True)
class Member:
    """A report of a series as its page lists it."""

    slug: str
    title: str
    date: str
    point: Point


@dataclass(frozen=True)
class Step:
    """One metric of one environment from one report to the next."""

    before: str  # slug
    after: str
    verdict: str
    label: str
    words: str
    change: float | None
    p_value: float | None
    reason: str | None

    @property
    def changed(self) -> bool:
        return self.verdict in CHANGES

    @property
    def tier(self) -> str:
        """The colour of its badge: a step worse is drawn like a severe cost."""
        untiered = ("inconclusive", "not-comparable")
        return "severe" if self.verdict == "worse" else \
            self.verdict if self.verdict in untiered else "negligible"


@dataclass(frozen=True)
class Line:
    """One metric in one environment across the series."""

    metric: str
    name: str
    unit: str
    better: str
    env: str
    points: tuple[tuple[str, float, tuple[float, float] | None], ...]  # slug, median, interval
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Change:
    """A step that is a change, for the list at the top of the page."""

    step: Step
    date: str  # of the later report
    title: str  # of the later report
    line: Line


@dataclass(frozen=True)
class View:
    id: str
    title: str
    members: tuple[Member, ...]
    lines: tuple[Line, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every step that is a change, newest first."""
        where = {m.slug: i for i, m in enumerate(self.members)}
        found = [Change(s, self.members[where[s.after]].date, self.members[where[s.after]].title,
                        line) for line in self.lines for s in line.steps if s.changed]
        return tuple(sorted(found, key=lambda c: (-where[c.step.after], c.line.metric,
                                                  c.line.env)))

    @property
    def changes_by_report(self) -> tuple[tuple[str, tuple[Change, ...]], ...]:
        """The changes under the slug of the report they lead to, newest report first."""
        groups: dict[str, list[Change]] = {}
        for c in self.changes:
            groups.setdefault(c.step.after, []).append(c)
        return tuple((slug, tuple(found)) for slug, found in groups.items())

    @property
    def numbers(self) -> dict[str, int]:
        """Each report's number in the series, from 1, as the page and chart show it."""
        return {m.slug: i for i, m in enumerate(self.members, start=1)}


def view(series_id: str, title: str, members: Sequence[Member]) -> View:
    """The series' lines, in the order metrics first appear, from its members' points."""
    keys: dict[tuple[str, str], dict[str, Any]] = {}
    for member in members:
        for m in member.point.get("metrics", []):
            keys.setdefault((m["metric"], m["env"]), m)
    before = {m.slug: members[i - 1].slug for i, m in enumerate(members) if i}
    lines = []
    for (metric, env), first in keys.items():
        points = tuple((member.slug, m["median"], tuple(m["interval"]) if m["interval"] else None)
                       for member in members for m in member.point.get("metrics", [])
                       if (m["metric"], m["env"]) == (metric, env))
        steps = tuple(_step(member, c) for member in members if _steps_from(member) and
                      _steps_from(member) == before.get(member.slug)
                      for c in member.point["step"]["changes"]
                      if (c["metric"], c["env"]) == (metric, env))
        lines.append(Line(metric, first["name"], first["unit"], first["better"], env, points,
                          steps))
    return View(series_id, title or members[0].title, tuple(members), tuple(lines))


def _step(member: Member, c: dict[str, Any]) -> Step:
    return Step(member.point["step"]["from"], member.slug, c["verdict"], c["label"], c["words"],
                c["change"], c["p_value"], c["reason"])


def _steps_from(member: Member) -> str:
    """The report the member's step starts from; "" without one."""
    step = member.point.get("step")
    return str(step["from"]) if step else ""
