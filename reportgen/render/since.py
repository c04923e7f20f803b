"""The "Since <earlier title> (<date>)" part in plain text and Markdown.

The HTML page and the PDF show it from templates/since.html; analysis.json
carries it under ``since`` (render/analysis_json.py).  Every figure comes
from :mod:`reportgen.analyse.since`; the formats' own helpers (line filling,
Markdown tables) are passed in so that each format keeps its one way of
laying text out.
"""

from __future__ import annotations

from collections.abc import Callable

from reportgen.analyse.since import Since
from reportgen.core import figures
from reportgen.core.markdown import escape

INTRO = ("computed from the measurements: each metric of this report against the same "
         "metric of the report it follows, by the comparison rules of a report")


def moved_heading(found: Since) -> str:
    return f"Slowdowns against {found.baseline}, then -> now:"


def text(found: Since | None, fill: Callable[..., str]) -> list[str]:
    """report.txt's block, after the headline; ``fill`` wraps a line as text.py does."""
    if found is None:
        return []
    lines = ["", fill(f"{found.heading} ({INTRO}):")]
    lines += [fill(f"- {r.text}" + (f"; {r.evidence}" if r.evidence else ""))
              for r in found.rows]
    if found.moved:
        lines += [fill(moved_heading(found))] + [fill(f"- {m.text}") for m in found.moved]
    return lines


def markdown(found: Since | None, table: Callable[..., list[str]]) -> list[str]:
    """report.md's section, after the headline; ``table`` is markdown.py's GFM table."""
    if found is None:
        return []
    out = [f"## {escape(found.heading)}", "", escape(INTRO[0].upper() + INTRO[1:]) + ".", ""]
    rows = [[r.env, r.name, figures.quantity(r.then, r.comparison.unit),
             figures.quantity(r.now, r.comparison.unit), r.words, r.evidence or "n/a"]
            for r in found.rows]
    out += table(["Environment", "Metric", "Then", "Now", "Verdict", "Now/then"], rows,
                 numeric=(2, 3)) + [""]
    if found.moved:
        out += [escape(moved_heading(found)), ""]
        out += table(["Environment", "Metric", "Then", "Now"],
                     [[m.env, m.name, m.then_text, m.now_text] for m in found.moved],
                     numeric=(2, 3)) + [""]
    return out
