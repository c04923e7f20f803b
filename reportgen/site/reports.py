"""Render stage: every output file of each report, and the site pages.

Files go into the build's staging directory; nothing here decides where the
site finally lives (see output.py).  Independent reports render in parallel
processes; charts whose data did not change are carried over from the
previous output instead of being drawn again.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reportgen.core import lifeline, resources
from reportgen.core.cards import Card
from reportgen.core.errors import InputError, Problem
from reportgen.core.model import Report, Site
from reportgen.render import template_cache
from reportgen.site import archive, cache, feeds, linkcheck, series
from reportgen.site.output import beside, link_tree, write

# The analysis, the charts and the formats that need them (numpy, matplotlib)
# are imported where a report is rendered, so a build's main process does not
# hold them while its workers render (it loads them for the index, after);
# the PDF renderer and the worker pool only when a build uses them.
if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from reportgen.analyse.analysis import Analysis
    from reportgen.render import pdf as render_pdf
    from reportgen.render.charts import Chart
    from reportgen.render.series import IndexEntry


@dataclass(frozen=True)
class _Job:
    report_dir: Path
    site: Site
    stage: Path
    reuse: str  # chart key of the previous output's charts, "" when there are none
    tests: tuple[str, dict[str, float | None]] = ("", {})  # the previous build's, as Rendered
    pdf_fits: tuple[str, ...] = ()  # the previous build's, as Rendered
    in_series: bool = False  # compute its point in a series (analyse/series.py)
    before: Path | None = None  # the report before it in its series
    follows: tuple[tuple[str, str], ...] = ()  # each report's `follows:`, by slug


def reports(report_dirs: Sequence[Path], site: Site, stage: Path,
            previous: cache.Manifest | None, pool: Pool | None = None,
            links: series.Links | None = None) -> list[cache.Rendered]:
    """Load, analyse and render every report, in parallel; raise every input
    problem of every report at once.  ``pool`` keeps warm workers between builds
    (`reportgen serve`); without one, a single report renders in this process
    and several in a pool made for this build."""
    template_cache.use(templates_cache(site.output))  # this process: the index and series pages
    jobs = []
    for report_dir in report_dirs:
        slug = report_dir.name
        entry = previous.reports.get(slug) if previous else None
        reuse = entry.charts if entry and (site.output / slug / "charts").is_dir() else ""
        tests = (entry.tests.get("key", ""), entry.tests.get("p_values", {})) if entry else ("", {})
        fits = tuple(entry.pdf_fits) if entry else ()
        before = links.before.get(slug) if links else None
        jobs.append(_Job(report_dir, site, stage, reuse, tests, fits,
                         links is not None and links.of(slug) is not None,
                         next((d for d in site.report_dirs if d.name == before), None),
                         tuple(links.names.items()) if links else ()))
    workers = min(len(jobs), os.cpu_count() or 1)
    if pool is not None:
        results = list(pool.executor.map(_render_job, jobs))
    elif workers <= 1:
        results = [_render_job(job, _renderer(site)) for job in jobs]
    else:
        with _executor(workers, pdf="pdf" in site.formats) as executor:
            results = list(executor.map(_render_job, jobs))
    problems = [p for r in results if isinstance(r, list) for p in r]
    if problems:
        raise InputError(problems)
    return [r for r in results if isinstance(r, cache.Rendered)]


def _renderer(site: Site) -> render_pdf.Renderer | None:
    """A PDF renderer started now, so it loads WeasyPrint while the report is analysed."""
    if "pdf" not in site.formats:
        return None
    from reportgen.render import pdf as render_pdf

    return render_pdf.Renderer()


def templates_cache(output: Path) -> Path:
    """Where builds of ``output`` keep compiled templates: beside it, like its
    lock, so nothing of it is published."""
    return beside(output, "cache") / "jinja"


def _render_job(job: _Job, renderer: render_pdf.Renderer | None = None
                ) -> cache.Rendered | list[Problem]:
    """One report, start to finish, in a worker: the main process never holds
    more than a report's card."""
    try:
        return _render_report(job, renderer)
    finally:
        if renderer is not None:
            renderer.close()  # unused when the report had a problem


def _render_report(job: _Job, renderer: render_pdf.Renderer | None) -> cache.Rendered | list[Problem]:
    from reportgen.analyse.analysis import card
    from reportgen.check import checks

    began = time.monotonic()
    template_cache.use(templates_cache(job.site.output))  # in a worker, its own
    old_key, old_p_values = job.tests
    keys: list[str] = []  # the loaded report's tests_key, taken once

    def known(rep: Report) -> dict[str, float | None]:
        keys.append(cache.tests_key(rep))
        return old_p_values if keys[0] == old_key else {}

    try:
        names = dict(job.follows)
        analysis, warnings = checks.analysed(job.report_dir, known, job.site.report_dirs,
                                             lambda d: names.get(d.name, ""))
    except InputError as exc:
        return exc.problems
    written = report(analysis, job.site, job.stage, job.reuse, job.pdf_fits, renderer)
    return cache.Rendered(analysis.report.slug, analysis.report.date, card(analysis),
                    warnings + list(written.warnings), written.charts, time.monotonic() - began,
                    (keys[0], dict(analysis.p_values)), written.pdf_fits,
                    _series_point(analysis, job) if job.in_series else {})


def _series_point(analysis: Analysis, job: _Job) -> dict[str, Any]:
    """The report's point in its series, with the step from the report before
    it (which, if it cannot be loaded, reports its own problems)."""
    from reportgen.analyse import series as series_data
    from reportgen.read.report_yml import load_report

    def load() -> Report | None:
        try:
            return load_report(job.before).report if job.before else None
        except InputError:
            return None

    return series_data.of_report(analysis, job.before.name if job.before else "", load)


# Imported by the fork server once, so every worker starts with them loaded.
_PRELOAD = ["reportgen.site.reports", "reportgen.render.html", "reportgen.render.pdf",
            "reportgen.check.checks", "reportgen.analyse.analysis", "scipy.stats",
            "matplotlib.figure", "matplotlib.backends.backend_svg", "reportgen.site.preloaded"]


def _executor(workers: int, *, pdf: bool = True, warm: bool = False) -> ProcessPoolExecutor:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # forkserver, not fork: `reportgen serve` builds from a thread, and
    # forking a process that has threads can copy a held lock.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD + (["reportgen.render.weasy"] if pdf else []))
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_start_worker, initargs=(os.getpid(), pdf, warm))


def _start_worker(build: int, pdf: bool, warm: bool) -> None:
    """Every worker dies with ``build``; a warm one (kept between builds) also
    loads the templates and fonts now, and WeasyPrint when PDFs are built."""
    from reportgen.render import charts
    from reportgen.render import html as render_html

    lifeline.die_with(build)
    if not warm:
        return
    render_html.environment().get_template("report.html")
    charts.warm_up()
    if pdf:
        from reportgen.render import pdf as render_pdf

        render_pdf.warm_up()


class Pool:
    """Render workers kept between builds (`reportgen serve`): WeasyPrint,
    matplotlib and the templates stay loaded, so a rebuild pays no start-up."""

    def __init__(self, *, pdf: bool) -> None:
        count = os.cpu_count() or 1
        self.executor = _executor(count, pdf=pdf, warm=True)
        for _ in range(count):  # start them all now, not at the first edit
            self.executor.submit(int)

    def close(self) -> None:
        self.executor.shutdown(cancel_futures=True)


@dataclass(frozen=True)
class Written:
    """What the next build of a report can reuse: its chart key and the PDF's
    fits; and the PDF's broken in-page links when no HTML page is built."""

    charts: str
    pdf_fits: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()


def report(analysis: Analysis, site: Site, stage: Path, reuse_charts: str = "",
           pdf_guess: Sequence[str] = (), renderer: render_pdf.Renderer | None = None
           ) -> Written:
    """Write output/<slug>/: charts, data, analysis.json, txt, md, pdf (+ archive) and the page.

    ``reuse_charts`` is the chart key of the previous output's charts; when it
    matches, they are linked instead of drawn.  ``pdf_guess`` is the previous
    PDF's fits (see render_pdf.render_pdf).
    """
    from reportgen.render import analysis_json as render_json
    from reportgen.render import markdown as render_markdown
    from reportgen.render import text as render_text

    rep = analysis.report
    out = stage / rep.slug
    key = cache.chart_key(analysis)
    drawn = _charts(analysis, site.output / rep.slug / "charts", out / "charts",
                    reuse=key == reuse_charts)
    inputs = {f.name: f.content for f in rep.inputs}
    copies = rep.data_files()
    for name, source in copies:
        write(out / "data" / name, inputs[source])
    data = tuple(name for name, _ in copies)
    write(out / render_json.ANALYSIS_FILE, render_json.render(analysis))
    if "txt" in site.formats:
        write(out / "report.txt", render_text.render(analysis).encode())
    if "md" in site.formats:
        folder = f"{feeds.base(site.base_url)}{quote(rep.slug, safe='')}/" if site.base_url else ""
        images = {c.name.removesuffix(".svg"): f"{folder}charts/{c.name}" for c in drawn}
        write(out / "report.md", render_markdown.render(analysis, images).encode())
    if not {"pdf", "html"} & set(site.formats):
        return Written(key)
    from reportgen.render import html as render_html

    built = tuple(f for f in ("pdf", "txt", "md") if f in site.formats)
    pdf = None
    if "pdf" in site.formats:
        from reportgen.render import pdf as render_pdf

        html = render_html.render_report(analysis, drawn, render_html.Links(built, data),
                                          for_pdf=True)
        meta, attachments = render_pdf.pdf_inputs(rep)
        pdf = render_pdf.render_pdf(html, out, report=rep.slug, meta=meta,
                                    attachments=attachments, paper=site.paper, guess=pdf_guess,
                                    renderer=renderer)
        write(out / "report.pdf", pdf.content)
        if "html" not in site.formats:  # else the link check reads the page itself
            return Written(key, pdf.fits, linkcheck.missing_anchors(html, f"{rep.slug}/report.pdf"))
    if "html" in site.formats:
        pending = (rep.date, pdf.content) if pdf else None
        links = render_html.Links(built, data, snapshot_links(site, rep.slug, pending),
                                  analysis=True)
        write(out / "index.html", render_html.render_report(analysis, drawn, links).encode())
    return Written(key, pdf.fits if pdf else ())


def _charts(analysis: Analysis, old: Path, new: Path, *, reuse: bool) -> list[Chart]:
    """The report's charts: linked from the previous output, or drawn."""
    from reportgen.render import charts

    if reuse:
        link_tree(old, new)
        return [charts.Chart(ref.name, ref.alt, (new / ref.name).read_bytes())
                for ref in charts.refs(analysis)]
    drawn = charts.section_charts(analysis) + [charts.overview_chart(analysis)]
    for chart in drawn:
        write(new / chart.name, chart.svg)
    return list(drawn)


def assets(stage: Path) -> None:
    """Files the pages and the PDFs share; written before any report."""
    for name, content in resources.site_assets().items():
        write(stage / name, content)


def site(cards: Sequence[Card], site: Site, stage: Path,
         snapshots: Mapping[str, Snapshots] | None = None,
         series: Sequence[IndexEntry] = ()) -> None:
    """The site's own pages: the index (with ``series``, what it shows of
    each series) and 404.html; with a base_url, also sitemap.xml and the Atom
    feed (which, with report.md's chart links, are the only files with
    absolute URLs).  The index links each report's ``snapshots`` (default:
    those in the site's archive; index_pages.py passes those of the new
    output's copy of it)."""
    if "html" not in site.formats:
        return
    from reportgen.render import html as render_html

    built = tuple(f for f in ("pdf", "txt", "md") if f in site.formats)
    if snapshots is None:
        snapshots = {c.slug: snapshot_links(site, c.slug) for c in cards}
    links = {c.slug: render_html.Links(built, c.data, snapshots[c.slug], analysis=True)
             for c in cards}
    feed = ""
    if site.base_url:
        write(stage / feeds.SITEMAP_FILE, feeds.sitemap(site.base_url, cards))
        write(stage / feeds.FEED_FILE, feeds.atom(site.title, site.base_url, cards))
        feed = feeds.FEED_FILE
    write(stage / "index.html",
          render_html.render_index(site.title, cards, links, feed=feed, series=series).encode())
    write(stage / "404.html", render_html.render_not_found(site.title).encode())


def snapshots(rendered: Sequence[cache.Rendered], site: Site, stage: Path
              ) -> list[archive.Pending]:
    """The snapshot of each rendered PDF, for the main process to archive once
    every check has passed (build.py), so a failed or killed build adds nothing."""
    if "pdf" not in site.formats:
        return []
    return [(r.slug, r.date, (stage / r.slug / "report.pdf").read_bytes()) for r in rendered]


Snapshots = tuple[tuple[str, str], ...]  # (label, href) of each archived PDF of a report


def snapshot_links(site: Site, slug: str, pending: tuple[dt.date, bytes] | None = None, *,
                   listed_in: Path | None = None) -> Snapshots:
    """(label, href relative to the report page) of every archived PDF, with
    the ``pending`` (date, PDF) this build is about to archive; ``listed_in``
    is where the archive is read (default: the site's archive).

    Only an archive inside the site can be linked: a link out of it would
    break as soon as the site is copied to its host."""
    if not site.archive.is_relative_to(site.output):
        return ()
    page_dir = site.output / slug
    where = listed_in or site.archive
    listed = (archive.with_snapshot(where, slug, *pending) if pending
              else archive.snapshots(where, slug))
    return tuple((f"{s.date} ({s.sha256[:8]})",
                  quote(os.path.relpath(site.archive / slug / s.file, page_dir)))
                 for s in listed)
