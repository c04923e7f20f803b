"""Plain text in the layout of a mailing-list post: report.txt.

The title is left out on purpose: in a post it is the subject line.  Section
titles are printed as the author wrote them (their case is theirs: identifiers
such as getpid() must survive), and no line is longer than LINE characters:
long titles, badges and system rows wrap with a hanging indent.
"""

from __future__ import annotations

import textwrap

from reportgen.analyse import headline, wording
from reportgen.analyse.analysis import (
    Analysis,
    EnvConclusions,
    Measurement,
    SectionView,
    evidence,
    noise_intro,
    noise_text,
)
from reportgen.core import figures, markdown
from reportgen.render import since

LINE = 78
RULE = "=" * LINE


def render(analysis: Analysis) -> str:
    lines: list[str] = []
    if analysis.intro.strip():
        lines += [markdown.to_text(analysis.intro), ""]
    lines += _system(analysis)
    lines += _headline(analysis)
    lines += since.text(analysis.since, _fill)
    lines += [RULE, "ANALYSIS AND NOTES", RULE]
    lines += _notes(analysis)
    for i, section in enumerate(analysis.sections):
        if i:
            lines.append("")
        lines.append(_fill(f"{section.number}. {section.title} ({section.badge})",
                           " " * (len(str(section.number)) + 2)))
        if section.analysis.strip():
            lines.append(markdown.to_text(section.analysis))
        lines += _figures(analysis, section)
    lines += [RULE, "CONCLUSIONS", RULE]
    several = len(analysis.conclusions) > 1
    for i, env in enumerate(analysis.conclusions):
        if i:
            lines.append("")
        lines += _conclusions(env, several)
    if analysis.summary.strip():
        lines += ["", markdown.to_text(analysis.summary, first_prefix="Summary: ")]
    lines.append(RULE)
    return "\n".join(lines) + "\n"


def _system(analysis: Analysis) -> list[str]:
    rows = list(analysis.system)
    if not any(key.lower() == "date" for key, _ in rows):
        rows.append(("Date", analysis.report.date.isoformat()))
    width = max(len(key) for key, _ in rows)
    return ["System:"] + [_fill(f"{key.ljust(width)} : {value}", " " * (width + 3))
                          for key, value in rows]


def _fill(text: str, indent: str = "  ", first: str = "") -> str:
    """``text`` wrapped at LINE columns, later lines indented; a word longer than a
    line is broken rather than let run past the margin."""
    return textwrap.fill(text, LINE, initial_indent=first, subsequent_indent=indent,
                         break_on_hyphens=False)


def _headline(analysis: Analysis) -> list[str]:
    """A short block of its own between the System block and the first rule."""
    baseline = analysis.report.baseline
    lines = ["", _fill(f"Headline (computed from the measurements, against {baseline}):")]
    if analysis.headline.note:
        lines.append(_fill(analysis.headline.note, first="  "))
    for h in analysis.headline.envs:
        texts = [f"- {h.env}: geometric mean {headline.mean_text(h)}",
                 f"results: {headline.counts_text(h)}"]
        # The worse results, then the inconclusive line (headline.largest_text in two lines).
        if h.worst or not h.undecided:
            texts.append(f"largest: {headline.worst_text(h) or headline.largest_text(h)}")
        if h.undecided:
            texts.append(h.undecided)
        lines += [_fill(text, first="" if text.startswith("- ") else "  ") for text in texts]
    return lines


def _notes(analysis: Analysis) -> list[str]:
    """How the data were taken, before the sections: drift, the noise floor."""
    lines = [_fill(f"Note: {note}") for note in analysis.notes]
    if analysis.noise_floor:
        lines.append(_fill(noise_intro(analysis.report)))
        lines += [_fill(f"- {noise_text(row)}") for row in analysis.noise_floor]
    return lines + [""] if lines else []


def _figures(analysis: Analysis, section: SectionView) -> list[str]:
    """One line per compared metric: medians, slowdown, interval, p, verdict."""
    lines = []
    for metric in section.metrics:
        base = metric.measurements[0]
        for m in metric.measurements[1:]:
            if m.comparison is None or base.median is None or m.median is None:
                continue
            c = m.comparison
            # Unstable samples are noted beside their median, as in the Markdown
            # table, unless the verdict's reason already says how much they vary.
            noted = c.rule != "noise"
            lines.append(_fill(
                f"- {metric.name}: {_median(m, noted)}, {_median(base, noted)}; "
                f"{evidence(c)}: {wording.verdict_text(c)}"))
    return lines


def _median(m: Measurement, noted: bool) -> str:
    """``guest 182 ns``, ``run-b 5.10 ms (unstable: CV 22%)``."""
    unstable = f" (unstable: {m.unstable})" if noted and m.unstable else ""
    value = m.metric.status if m.median is None else figures.quantity(m.median, m.metric.unit)
    return f"{m.env} {value}{unstable}"


def _conclusions(env: EnvConclusions, several: bool) -> list[str]:
    lines: list[str] = []
    for i, block in enumerate(env.blocks):
        if i:
            lines.append("")
        heading = f"{block.heading} ({env.env})" if several else block.heading
        lines.append(f"{heading}:")
        for item in block.items:
            lines.append(_fill(f"- {item.name}: {wording.with_note(item.figure, item.note)}"))
    return lines
