"""The headline every report opens with: computed, never typed by the author.

Per compared environment, as benchstat's geomean row does it: the geometric
mean of its slowdowns with a 95% interval, how many comparisons fall in each
tier (and how many are inconclusive or not comparable, which the mean leaves
out), and the largest slowdowns.  Pure functions over the comparisons; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reportgen.analyse import stats
from reportgen.analyse.compare import UNTIERED, Comparison
from reportgen.core import figures
from reportgen.core.model import TIERS, Report

WORST_IN_HEADLINE = 3  # largest slowdowns listed per environment
COUNTED = TIERS + UNTIERED  # the order counts are given in


@dataclass(frozen=True)
class Worst:
    """One of the largest slowdowns of an environment."""

    metric_id: str
    name: str
    label: str
    slowdown: float
    tier: str


@dataclass(frozen=True)
class EnvHeadline:
    env: str
    geomean: float | None  # None when no comparison could be included
    interval: tuple[float, float] | None  # 95% interval of the mean; None when it is
    included: int  # comparisons in the geometric mean
    counts: tuple[tuple[str, int], ...]  # (tier or untiered verdict, count), COUNTED order
    worst: tuple[Worst, ...]  # verdict `worse` only, largest slowdown first

    @property
    def left_out(self) -> tuple[tuple[str, int], ...]:
        """The untiered verdicts that occur, with their counts."""
        return tuple((word, n) for word, n in self.counts if word in UNTIERED and n)


@dataclass(frozen=True)
class Headline:
    baseline: str
    envs: tuple[EnvHeadline, ...]  # in the report's order


def headline(report: Report, comparisons: Sequence[Comparison],
             names: dict[str, str]) -> Headline:
    """The headline of ``report`` from its ``comparisons``; ``names`` gives each
    metric's name as its section shows it."""
    return Headline(report.baseline, tuple(
        _env(env.label, [c for c in comparisons if c.env == env.label], names)
        for env in report.others))


def _env(env: str, comparisons: Sequence[Comparison],
         names: dict[str, str]) -> EnvHeadline:
    included = [c for c in comparisons if c.verdict not in UNTIERED]
    counts = tuple((word, sum(1 for c in comparisons if c.tier == word)) for word in COUNTED)
    worse = sorted((c for c in comparisons if c.verdict == "worse"),
                   key=lambda c: (-c.slowdown, c.metric_id))
    worst = tuple(Worst(c.metric_id, names[c.metric_id], c.label, c.slowdown, c.tier)
                  for c in worse[:WORST_IN_HEADLINE])
    if not included:
        return EnvHeadline(env, None, None, 0, counts, worst)
    mean = geometric_mean(np.array([c.slowdown for c in included]))
    # An included comparison has at least MIN_ROUNDS rounds a side, so draws to combine.
    draws = np.vstack([c.draws for c in included])
    interval = stats.percentile_interval(geometric_mean(draws))
    return EnvHeadline(env, float(mean), interval, len(included), counts, worst)


def geometric_mean(slowdowns: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The geometric mean over the first axis: of a vector, or draw by draw
    of a (comparisons x draws) matrix."""
    result: npt.NDArray[np.float64] = np.exp(np.log(slowdowns).mean(axis=0))
    return result


# Phrases shared by every renderer, so the four formats say the same thing.

def mean_text(h: EnvHeadline) -> str:
    """``2.9x (95% interval 2.7x to 3.1x)``."""
    if h.geomean is None:
        return "n/a (no conclusive result to average)"
    return f"{figures.ratio(h.geomean)} (95% interval {figures.interval(h.interval)})"


def counts_text(h: EnvHeadline) -> str:
    """``3 negligible, 4 moderate, 3 severe; 1 inconclusive, left out of the mean``."""
    tiers = ", ".join(f"{n} {word}" for word, n in h.counts if word in TIERS)
    left = " and ".join(f"{n} {word.replace('-', ' ')}" for word, n in h.left_out)
    return f"{tiers}; {left}, left out of the mean" if left else tiers


def worst_text(h: EnvHeadline) -> str:
    """``fork()+wait latency ~66x, getpid() latency ~4x``."""
    if not h.worst:
        return f"none: no metric is worse in {h.env}"
    return ", ".join(f"{w.name} {w.label}" for w in h.worst)
