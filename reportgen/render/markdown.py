"""GitHub-flavoured Markdown: report.md, for forums and READMEs.

The author's Markdown passes through as written (placeholders resolved) except
raw HTML, which is escaped so it stays text as on the HTML page; plain-text
fields are escaped; the figures reportgen computes become tables (numbers
right-aligned, every column named), and charts image links: relative, or
absolute under site.yml's base_url so the file can be pasted where the site is
not.
"""

from __future__ import annotations

from collections.abc import Iterable

from reportgen.analyse import headline, wording
from reportgen.analyse.analysis import Analysis, MetricView, evidence, noise_intro, noise_text
from reportgen.core import figures
from reportgen.core.markdown import escape, escape_html
from reportgen.render import since


def render(analysis: Analysis, charts: dict[str, str]) -> str:
    """``charts`` maps a section anchor (or "overview") to its image path."""
    report = analysis.report
    out = [f"# {escape(report.title)}", ""]
    out += [f"{escape(report.author)}, {report.date.isoformat()}" if report.author
            else report.date.isoformat(), ""]
    if analysis.intro.strip():
        out += [escape_html(analysis.intro.strip()), ""]
    rows = list(analysis.system) + [("Date", report.date.isoformat())]
    out += _table(["System", "Value"], [[k, v] for k, v in rows]) + [""]
    out += _headline(analysis)
    out += since.markdown(analysis.since, _table)
    out += ["## Analysis and notes", ""]
    out += [f"> **Note:** {escape(note)}\n" for note in analysis.notes]
    if analysis.noise_floor:
        out += [escape(noise_intro(report)), ""]
        out += [f"- {escape(noise_text(row))}" for row in analysis.noise_floor] + [""]
    for section in analysis.sections:
        out += [f"### {section.number}. {escape(section.title)} ({escape(section.badge)})", ""]
        if section.analysis.strip():
            out += [escape_html(section.analysis.strip()), ""]
        out += _results(analysis, section.metrics) + [""]
        if section.anchor in charts:
            out += [f"![{escape(section.title)}]({charts[section.anchor]})", ""]
    out += ["## Conclusions", ""]
    several = len(analysis.conclusions) > 1
    for env in analysis.conclusions:
        for block in env.blocks:
            heading = f"{block.heading} ({env.env})" if several else block.heading
            out += [f"**{escape(heading)}**", ""]
            out += [f"- {escape(i.name)}: {escape(wording.with_note(i.figure, i.note))}"
                    for i in block.items] + [""]
    if analysis.headline.note:  # nothing compared: no slowdown to chart
        out += [escape(analysis.headline.note), ""]
    elif "overview" in charts:
        out += [f"![Slowdown per metric]({charts['overview']})", ""]
    if analysis.summary.strip():
        out += ["## Summary", "", escape_html(analysis.summary.strip()), ""]
    return "\n".join(out)


def _headline(analysis: Analysis) -> list[str]:
    out = ["## Headline", "",
           f"Computed from the measurements: slowdowns against {escape(analysis.report.baseline)}.",
           ""]
    if analysis.headline.note:
        return out + [escape(analysis.headline.note), ""]
    rows = [[h.env, headline.mean_text(h), headline.counts_text(h), headline.largest_text(h)]
            for h in analysis.headline.envs]
    return out + _table(["Environment", "Geometric mean", "Results", "Largest slowdowns"],
                        rows) + [""]


def _results(analysis: Analysis, metrics: tuple[MetricView, ...]) -> list[str]:
    envs = [e.label for e in analysis.report.environments]
    header = ["Metric"] + envs + [f"{e} vs {analysis.report.baseline}" for e in envs[1:]]
    rows = []
    for metric in metrics:
        # each in its own unit: one that could not be converted stays as measured
        values = [(figures.quantity(m.median, m.metric.unit)
                   + (f" (unstable: {m.unstable})" if m.unstable else ""))
                  if m.median is not None else m.metric.status for m in metric.measurements]
        labels = [f"{wording.verdict_text(m.comparison)}: {evidence(m.comparison)}"
                  if m.comparison else "n/a" for m in metric.measurements[1:]]
        rows.append([metric.name] + values + labels)
    return _table(header, rows, numeric=range(1, len(header)))


def _table(header: list[str], rows: list[list[str]], numeric: Iterable[int] = ()) -> list[str]:
    """A GFM table; the ``numeric`` columns are right-aligned."""
    right = set(numeric)
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _cell(text: str) -> str:
    return escape(text).replace("\n", " ")
