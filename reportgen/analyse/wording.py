"""How comparisons are put in words: section badges, verdicts with their
reasons, the direction of a result (``36% less throughput``), conclusions
figures, how many results are inconclusive and why, and the worst tier of a
group.  Every format takes its words from here, so they tell one story."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from reportgen.analyse.compare import ALPHA, MIN_ROUNDS, RULES, UNTIERED, Comparison, Rule
from reportgen.core import figures
from reportgen.core.model import TIERS


def compose(parts: Sequence[tuple[str, str]]) -> str:
    """A section badge from (short name, label) pairs: ``-36% write, -48% read``."""
    if len(parts) == 1:
        return parts[0][1]
    return ", ".join(badge_part(short, text) for short, text in parts)


def badge_part(short: str, text: str) -> str:
    """One metric's part of a section badge: ``-36% write``."""
    return f"{text} {short}".strip()


# How each untiered verdict is written out in words (badges use a glyph).
VERDICT_WORDS = {"inconclusive": "inconclusive", "not-comparable": "not comparable"}


def verdict_text(c: Comparison) -> str:
    """``inconclusive (3 rounds, need >= 5)``; the label for any other verdict."""
    if c.verdict not in UNTIERED:
        return c.label
    word = VERDICT_WORDS[c.verdict]
    return f"{word} ({c.reason})" if c.reason else word


# A cost in words, by the metric's direction: a time grows, a throughput shrinks.
WORSE_WORDS = {"lower": "longer", "higher": "less throughput"}


def direction(c: Comparison) -> str:
    """A result with its direction in words: ``~4x slower``, ``8% longer``
    (lower is better), ``36% less throughput`` (higher is better); a result
    that is not worse keeps its label (``same``, ``guest faster``, ``?``)."""
    split = _split(c)
    return f"{split[0]} {split[1]}" if split else c.label


def _split(c: Comparison) -> tuple[str, str] | None:
    """A worse result's figure and its words: (``~4x``, ``slower``), (``36%``,
    ``less throughput``); None for any other verdict."""
    if c.verdict != "worse":
        return None
    if c.label.startswith("~"):
        return c.label, "slower"
    return c.label.lstrip("+-"), WORSE_WORDS[c.better]


def across(count: int) -> str:
    """What follows a range over several metrics, so it never reads as an interval."""
    return f"across {count} metrics"


def figure(comparisons: Sequence[Comparison]) -> str:
    """A conclusions figure: one result in words, or the range from mildest to
    worst across the metrics (``36% to 48% less throughput across 2 metrics``);
    untiered results follow, never as a range end: how many are inconclusive
    and why, and what is not comparable."""
    tiered = sorted((c for c in comparisons if c.tier not in UNTIERED), key=lambda c: c.slowdown)
    parts = [_range(tiered)] if tiered else []
    if len(comparisons) == 1 and comparisons[0].verdict == "inconclusive":
        parts.append(verdict_text(comparisons[0]))
    elif any(c.verdict == "inconclusive" for c in comparisons):
        parts.append(undecided(comparisons))
    refused = [c for c in comparisons if c.verdict == "not-comparable"]
    if refused:
        reasons = "; ".join(dict.fromkeys(c.reason for c in refused if c.reason))
        word = VERDICT_WORDS["not-comparable"]
        parts.append(f"{word} ({reasons})" if reasons else word)
    return "; ".join(parts)


def _range(ordered: Sequence[Comparison]) -> str:
    """Tiered results, mildest first, as one result or a range across them."""
    first, last = direction(ordered[0]), direction(ordered[-1])
    if first == last:
        return first
    low, high = _split(ordered[0]), _split(ordered[-1])
    if low and high and low[1] == high[1]:
        return f"{low[0]} to {high[0]} {low[1]} {across(len(ordered))}"
    return f"{first} to {last} {across(len(ordered))}"


def slowdown_range(comparisons: Sequence[Comparison]) -> str:
    """``3.96x``, or ``1.56x to 1.92x slower`` for a conclusion over several
    metrics (short: the page's column keeps it on one line, beside the figure
    that says it is across the metrics); a range that starts below 1x, where
    "slower" would not hold, says ``across N metrics`` instead."""
    values = sorted(c.slowdown for c in comparisons if not math.isnan(c.slowdown))
    if not values:
        return figures.ratio(math.nan)
    low, high = figures.ratio(values[0]), figures.ratio(values[-1])
    if low == high:
        return low
    return f"{low} to {high} " + ("slower" if values[0] >= 1 else across(len(values)))


def with_note(figure: str, note: str) -> str:
    """A conclusions figure and the author's note: ``~4x slower, a fixed cost``;
    a note the author opens with a parenthesis follows without a comma."""
    if not note:
        return figure
    return f"{figure} {note}" if note.startswith("(") else f"{figure}, {note}"


def undecided(comparisons: Sequence[Comparison]) -> str:
    """How many of ``comparisons`` are inconclusive and why, in one line:
    ``7 of 10 inconclusive: 3 rounds, need >= 5``; empty when none is."""
    found = [c for c in comparisons if c.verdict == "inconclusive"]
    if not found:
        return ""
    return f"{len(found)} of {len(comparisons)} inconclusive: {why(found)}"


def why(found: Sequence[Comparison]) -> str:
    """The reason of inconclusive results: theirs when they share one, else
    each rule that decided once, its figures as a range; when several rules
    did, how many results each decided: ``8 within the noise (samples vary by
    27% to 53%); 2 not significant (p = 0.16 after adjusting for 10 metrics,
    need < 0.05)``."""
    reasons = list(dict.fromkeys(c.reason for c in found))
    if len(reasons) == 1:
        return reasons[0]
    groups = [(rule, [c for c in found if c.rule == rule]) for rule in _BY_RULE]
    texts = [(len(group), *_rule_text(rule, group)) for rule, group in groups if group]
    if len(texts) == 1:
        _, short, detail = texts[0]
        return f"{detail}: the differences are {short}" if short == _SHORT["noise"] else detail
    return "; ".join(f"{count} {short} ({detail})" for count, short, detail in texts)


_BY_RULE: tuple[Rule, ...] = ("", *RULES)  # "": a reason given without its rule
_SHORT = {"rounds": "with too few rounds", "drift": "possibly drift", "noise": "within the noise",
          "p": "not significant", "band": "inside the noise band, not tightly", "": "other"}


def _rule_text(rule: Rule, found: Sequence[Comparison]) -> tuple[str, str]:
    """What one rule says of several inconclusive results: in short, and in detail."""
    if rule == "rounds":
        detail = f"{_span([min(c.rounds) for c in found], str)} rounds, need >= {MIN_ROUNDS}"
    elif rule == "noise":
        detail = f"samples vary by {_span([round(c.cv * 100) for c in found], _pct)}"
    elif rule == "p":
        known = [c.p_value for c in found if c.p_value is not None]
        tests = max(c.tests for c in found)
        adjusted = f" after adjusting for {tests} metrics" if tests > 1 else ""
        detail = f"p = {_span(known, figures.p_value) if known else 'n/a'}{adjusted}, need < {ALPHA}"
    elif rule == "drift":
        detail = "measured one after the other, and the machine's drift may explain the differences"
    elif rule == "band":
        detail = "changes within the noise band, but their intervals reach past it"
    else:
        detail = "; ".join(dict.fromkeys(c.reason for c in found))
    return _SHORT[rule], detail


def _pct(value: float) -> str:
    return f"{value:g}%"


def _span(values: Sequence[float], text: Callable[[float], str]) -> str:
    """``26%``, or ``26% to 36%`` from the smallest to the largest of ``values``."""
    low, high = text(min(values)), text(max(values))
    return low if low == high else f"{low} to {high}"


def worst_tier(comparisons: Sequence[Comparison]) -> str:
    """The worst tier; any untiered result makes the whole untiered (not
    comparable before inconclusive), so it is never filed as fine."""
    for verdict in reversed(UNTIERED):
        if any(c.tier == verdict for c in comparisons):
            return verdict
    return max((c.tier for c in comparisons), key=TIERS.index)
