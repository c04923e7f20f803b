"""The headline every report opens with: computed, never typed by the author.

Per compared environment, as benchstat's geomean row does it: the geometric
mean of its slowdowns with a 95% interval, how many comparisons fall in each
tier (and how many are inconclusive or not comparable, which the mean leaves
out), the largest slowdowns (``worse`` results only), and how many results are
inconclusive and why.  Pure functions over the comparisons; no I/O.  The site
index's card takes its largest slowdowns and inconclusive lines from here
too (:func:`undecided_lines`, :func:`reportgen.core.cards.largest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reportgen.analyse import stats, wording
from reportgen.analyse.compare import UNTIERED, Comparison
from reportgen.core import figures
from reportgen.core.cards import largest, nothing_compared
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
    words: str  # the label with its direction: ``~66x slower``, ``36% less throughput``


@dataclass(frozen=True)
class EnvHeadline:
    env: str
    geomean: float | None  # None when no comparison could be included
    interval: tuple[float, float] | None  # 95% interval of the mean; None when it is
    included: int  # comparisons in the geometric mean
    counts: tuple[tuple[str, int], ...]  # (tier or untiered verdict, count), COUNTED order
    worst: tuple[Worst, ...]  # verdict `worse` only, largest slowdown first
    undecided: str = ""  # ``7 of 10 inconclusive: 3 rounds, need >= 5``; "" when none is

    @property
    def left_out(self) -> tuple[tuple[str, int], ...]:
        """The untiered verdicts that occur, with their counts."""
        return tuple((word, n) for word, n in self.counts if word in UNTIERED and n)


@dataclass(frozen=True)
class Headline:
    baseline: str
    envs: tuple[EnvHeadline, ...]  # in the report's order

    @property
    def note(self) -> str:
        """In place of the headline of a report with nothing to compare, else ""."""
        return "" if self.envs else nothing_compared(self.baseline)


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
    worst = tuple(Worst(c.metric_id, names[c.metric_id], c.label, c.slowdown, c.tier,
                        wording.direction(c))
                  for c in largest(comparisons, WORST_IN_HEADLINE))
    undecided = wording.undecided(comparisons)
    if not included:
        return EnvHeadline(env, None, None, 0, counts, worst, undecided)
    mean = geometric_mean(np.array([c.slowdown for c in included]))
    # An included comparison has at least MIN_ROUNDS rounds a side, so draws to combine.
    draws = np.vstack([c.draws for c in included])
    interval = stats.percentile_interval(geometric_mean(draws))
    return EnvHeadline(env, float(mean), interval, len(included), counts, worst, undecided)


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
    """``fork()+wait latency ~66x slower, getpid() latency ~4x slower``; empty
    when no result is worse."""
    return ", ".join(f"{w.name} {w.words}" for w in h.worst)


def largest_text(h: EnvHeadline) -> str:
    """What follows the counts, in one line: the largest slowdowns, then how
    many results are inconclusive and why.  ``none: no metric is worse`` only
    when nothing was left inconclusive, so it never reads as an all-clear
    that the data cannot give."""
    parts = [text for text in (worst_text(h), h.undecided) if text]
    return "; ".join(parts) or f"none: no metric is worse in {h.env}"


def undecided_lines(h: Headline) -> tuple[str, ...]:
    """Each environment's inconclusive line, named when the report compares several."""
    several = len(h.envs) > 1
    return tuple(f"{e.env}: {e.undecided}" if several else e.undecided
                 for e in h.envs if e.undecided)
