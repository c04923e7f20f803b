"""Render stage: every output file of one report, and the site pages.

Files go into the build's staging directory; nothing here decides where the
site finally lives (see output.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from reportgen import archive, charts, render_html, render_markdown, render_pdf, render_text
from reportgen.analysis import Analysis
from reportgen.model import Site
from reportgen.output import write


def report(analysis: Analysis, site: Site, stage: Path) -> None:
    """Write output/<slug>/: charts, data, txt, md, pdf (+ archive) and the page."""
    rep = analysis.report
    out = stage / rep.slug
    drawn = charts.section_charts(analysis) + [charts.overview_chart(analysis)]
    for chart in drawn:
        write(out / "charts" / chart.name, chart.svg)
    inputs = {f.name: f.content for f in rep.inputs}
    data = tuple(f"{env.label}.json" for env in rep.environments)
    for env, name in zip(rep.environments, data):
        write(out / "data" / name, inputs[env.file_name])
    if "txt" in site.formats:
        write(out / "report.txt", render_text.render(analysis).encode())
    if "md" in site.formats:
        images = {c.name.removesuffix(".svg"): f"charts/{c.name}" for c in drawn}
        write(out / "report.md", render_markdown.render(analysis, images).encode())
    built = tuple(f for f in ("pdf", "txt", "md") if f in site.formats)
    if "pdf" in site.formats:
        html = render_html.render_report(analysis, drawn, render_html.Links(built, data))
        meta, attachments = render_pdf.pdf_inputs(rep)
        pdf = render_pdf.render_pdf(html, out, report=rep.slug, meta=meta,
                                    attachments=attachments, paper=site.paper)
        write(out / "report.pdf", pdf)
        archive.add_snapshot(site.archive, rep.slug, rep.date, pdf)
    if "html" in site.formats:
        links = render_html.Links(built, data, _snapshots(site, rep.slug))
        write(out / "index.html", render_html.render_report(analysis, drawn, links).encode())


def assets(stage: Path) -> None:
    """Files the pages and the PDFs share; written before any report."""
    write(stage / "style.css", render_html.stylesheet())


def site(analyses: list[Analysis], site: Site, stage: Path) -> None:
    """The site's own pages: the index."""
    if "html" not in site.formats:
        return
    built = tuple(f for f in ("pdf", "txt", "md") if f in site.formats)
    links = {a.report.slug: render_html.Links(
        built, tuple(f"{e.label}.json" for e in a.report.environments),
        _snapshots(site, a.report.slug)) for a in analyses}
    write(stage / "index.html", render_html.render_index(site.title, analyses, links).encode())


def _snapshots(site: Site, slug: str) -> tuple[tuple[str, str], ...]:
    """(label, href relative to the report page) of every archived PDF."""
    page_dir = site.output / slug
    return tuple((f"{s.date} ({s.sha256[:8]})", os.path.relpath(site.archive / slug / s.file, page_dir))
                 for s in archive.snapshots(site.archive, slug))
