"""How comparisons are put in words: section badges, verdicts with their
reasons, conclusions figures, and the worst tier of a group."""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.analyse.compare import UNTIERED, Comparison
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


def figure(comparisons: Sequence[Comparison]) -> str:
    """A conclusions figure: one label, or the range from mildest to worst;
    untiered results are written out with their reasons, never as a range end."""
    tiered = sorted((c for c in comparisons if c.tier not in UNTIERED), key=lambda c: c.slowdown)
    parts = []
    if tiered:
        first, last = tiered[0].label, tiered[-1].label
        parts.append(first if first == last else f"{first} to {last}")
    for verdict in UNTIERED:
        found = [c for c in comparisons if c.verdict == verdict]
        if found:
            reasons = "; ".join(dict.fromkeys(c.reason for c in found if c.reason))
            parts.append(f"{VERDICT_WORDS[verdict]} ({reasons})" if reasons
                         else VERDICT_WORDS[verdict])
    return ", ".join(parts)


def worst_tier(comparisons: Sequence[Comparison]) -> str:
    """The worst tier; any untiered result makes the whole untiered (not
    comparable before inconclusive), so it is never filed as fine."""
    for verdict in reversed(UNTIERED):
        if any(c.tier == verdict for c in comparisons):
            return verdict
    return max((c.tier for c in comparisons), key=TIERS.index)
