"""The site index's view of a report: a card, small and free of the statistics.

A card is what a build keeps of each report in its manifest, so the index can
be written without loading unchanged reports again; it also crosses from the
render workers to the build's main process.  This module imports neither the
analysis nor numpy, so that process does not load them for cards alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar


class Ranked(Protocol):
    """A compared result as :func:`largest` ranks it (a comparison or a card's metric)."""

    @property
    def metric_id(self) -> str: ...
    @property
    def env(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def slowdown(self) -> float: ...


R = TypeVar("R", bound=Ranked)


def largest(results: Iterable[R], count: int) -> tuple[R, ...]:
    """The ``count`` largest slowdowns among ``results`` whose verdict is
    ``worse``, never an inconclusive one: largest first, ties by metric id,
    then environment.  The headline and the site index both list these."""
    worse = sorted((r for r in results if r.verdict == "worse"),
                   key=lambda r: (-r.slowdown, r.metric_id, r.env))
    return tuple(worse[:count])



def nothing_compared(baseline: str) -> str:
    """A report of one environment (a run of a series) in place of its headline."""
    return f"One environment ({baseline}): nothing is compared within the report."

@dataclass(frozen=True)
class CardMetric:
    """One compared metric as the site index shows it."""

    id: str
    name: str
    unit: str
    env: str
    base_median: float
    median: float
    slowdown: float
    label: str
    tier: str
    verdict: str  # one of analyse.compare.VERDICTS
    words: str  # the label with its direction (analyse.wording.direction)

    @property
    def metric_id(self) -> str:
        return self.id


@dataclass(frozen=True)
class Card:
    """What the site index needs of a report: small, and kept between builds
    so unchanged reports are not loaded again (see cache.py)."""

    slug: str
    title: str
    date: str
    author: str
    baseline: str
    environments: tuple[str, ...]
    metrics: tuple[CardMetric, ...]
    # The headline's inconclusive lines (``7 of 10 inconclusive: 3 rounds, need >= 5``),
    # one per environment that has any, named when the report compares several.
    undecided: tuple[str, ...] = ()
    data: tuple[str, ...] = ()  # the report's files under data/ (Report.data_files)
    provenance: str = ""  # who measured the figures (analyse.provenance)

    def quiet_note(self) -> str:
        """What the card says when it lists no slowdown and nothing is inconclusive."""
        if len(self.environments) < 2:  # a report of one machine, as in a series
            return nothing_compared(self.baseline)
        return f"No slowdowns: every metric is the same as {self.baseline} or faster."

    def worst(self, count: int) -> tuple[CardMetric, ...]:
        """The largest slowdowns, as the headline lists them: `worse` results only."""
        return largest(self.metrics, count)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card:
        """The inverse of ``dataclasses.asdict``, as the build manifest stores it."""
        return cls(data["slug"], data["title"], data["date"], data["author"], data["baseline"],
                   tuple(data["environments"]), tuple(CardMetric(**m) for m in data["metrics"]),
                   tuple(data.get("undecided", ())), tuple(data["data"]),
                   data.get("provenance", ""))
