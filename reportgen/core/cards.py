"""The site index's view of a report: a card, small and free of the statistics.

A card is what a build keeps of each report in its manifest, so the index can
be written without loading unchanged reports again; it also crosses from the
render workers to the build's main process.  This module imports neither the
analysis nor numpy, so that process does not load them for cards alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
    data: tuple[str, ...] = ()  # the report's files under data/ (Report.data_files)

    def worst(self, count: int) -> tuple[CardMetric, ...]:
        """The largest slowdowns that are real costs (not ``same`` or faster)."""
        # Inconclusive results stay, coloured apart; not comparable ones have no slowdown.
        costs = [m for m in self.metrics if m.tier != "not-comparable"
                 and m.label != "same" and m.slowdown >= 1]
        return tuple(sorted(costs, key=lambda m: (-m.slowdown, m.id, m.env))[:count])

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card:
        """The inverse of ``dataclasses.asdict``, as the build manifest stores it."""
        return cls(data["slug"], data["title"], data["date"], data["author"], data["baseline"],
                   tuple(data["environments"]), tuple(CardMetric(**m) for m in data["metrics"]),
                   tuple(data["data"]))
