"""One PDF job rendered with WeasyPrint, inside the renderer process.

This module owns what the renderer process is sent (:class:`Job`), what it
sends back (:class:`Pdf`), and the render in between: the page's HTML with
``templates/pdf.css`` laid out through the safe fetcher (pdf_fetch) and
fitted (pdf_layout), the report's metadata and attachments set (pdf_meta),
links to local files dropped, and the PDF/A-3b bytes written, with any
resource WeasyPrint could not load or draw made a build error.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.core import resources
from reportgen.core.errors import BuildError
from reportgen.render.pdf_fetch import fetcher_class
from reportgen.render.pdf_layout import laid_out
from reportgen.render.pdf_meta import Attachment, PdfMeta, finish, set_metadata

TEMPLATES = resources.TEMPLATES
PDF_CSS = TEMPLATES / "pdf.css"
PDF_VARIANT = "pdf/a-3b"
# WeasyPrint takes one pdf_variant; PDF/A-3b is it, and pdf_tags adds the same
# structure tree (tagged PDF) that its PDF/UA variant writes.
PDF_TAGS = True


@dataclass(frozen=True)
class Pdf:
    """A rendered PDF and the chart-fitting rules its first layout asked for:
    the next build of the report passes them back as ``guess``."""

    content: bytes
    fits: tuple[str, ...]


@dataclass(frozen=True)
class Job:
    """What the renderer process is sent: one report's page and its PDF's settings."""

    html: str
    base_dir: str
    report: str
    meta: PdfMeta
    attachments: tuple[Attachment, ...]
    paper: str
    guess: tuple[str, ...]


class _Problems(logging.Handler):
    """Collects what WeasyPrint reports as errors: a failed load is a failed build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR or "cannot be loaded" in message:
            self.messages.append(message)


def render(job: Job) -> Pdf:
    """``job``'s PDF, rendered in this process (the renderer's, see pdf_process)."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    # Libraries that stamp "now" into files (fontTools sets a font's head.modified
    # when it rewrites one) read SOURCE_DATE_EPOCH; this worker is a process of its
    # own, so pinning it to the report's date changes nothing for the caller.
    midnight = dt.datetime.combine(job.meta.date, dt.time(), tzinfo=dt.timezone.utc)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(midnight.timestamp()))
    base_dir = Path(job.base_dir)
    fetcher = fetcher_class()(job.report, (base_dir.parent, TEMPLATES))
    problems = _Problems()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(problems)
    try:
        html = weasyprint.HTML(string=job.html, base_url=base_dir.as_uri() + "/",
                               url_fetcher=fetcher)

        styles: dict[int, tuple[Any, list[Any]]] = {}

        def lay_out(fits: Sequence[str]) -> Any:
            # Fonts of its own for each process: WeasyPrint copies each @font-face
            # file into its configuration's folder, and a forked copy laying out
            # at the same time must not write into this process's folder.
            if os.getpid() not in styles:
                fonts = FontConfiguration()
                styles[os.getpid()] = (fonts, [
                    weasyprint.CSS(filename=str(PDF_CSS), url_fetcher=fetcher, font_config=fonts),
                    weasyprint.CSS(string=f"@page {{ size: {job.paper}; }}", font_config=fonts)])
            fonts, stylesheets = styles[os.getpid()]
            sized = [weasyprint.CSS(string="\n".join(fits), font_config=fonts)] if fits else []
            return html.render(font_config=fonts, stylesheets=[*stylesheets, *sized],
                               pdf_variant=PDF_VARIANT)

        document, first = laid_out(lay_out, job.guess)
        if fetcher.refused:
            raise BuildError(fetcher.refused[0])
        set_metadata(document.metadata, job.meta)
        _drop_local_links(document)
        _drop_dead_anchors(document)
        stamp = dt.datetime.combine(job.meta.date, dt.time())
        files = [weasyprint.Attachment(file_obj=io.BytesIO(a.content), name=a.name,
                                       description=a.name, created=stamp, modified=stamp,
                                       relationship="Source")
                 for a in job.attachments]
        content = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=PDF_TAGS,
                                     attachments=files, finisher=finish)
    except weasyprint.urls.FatalURLFetchingError:
        raise BuildError(fetcher.refused[0] if fetcher.refused
                         else f"report {job.report}: a resource could not be fetched") from None
    finally:
        logger.removeHandler(problems)
    if fetcher.refused:
        raise BuildError(fetcher.refused[0])
    if problems.messages:
        raise BuildError(f"report {job.report}: PDF rendering failed: {problems.messages[0]}")
    assert isinstance(content, bytes)
    return Pdf(content, tuple(first))


def _drop_local_links(document: Any) -> None:
    """Remove links to local files: they would point into the build's staging dir.

    Relative links of the web page (other formats, data files, the site index)
    resolve to file:// URLs here, which mean nothing to a reader of the PDF and
    would put the build machine's paths into its bytes.  The link text stays.
    """
    for page in document.pages:
        page.links[:] = [link for link in page.links
                         if not (link[0] == "external" and str(link[1]).startswith("file:"))]


def _drop_dead_anchors(document: Any) -> None:
    """Remove in-page links to an anchor the document does not have; the link
    text stays.

    The link check reports them (docs/site.md, "Link check": a warning, an
    error with --strict) whatever the formats; WeasyPrint would log each one
    as an error, which would fail the PDF alone."""
    anchors = {name for page in document.pages for name in page.anchors}
    for page in document.pages:
        page.links[:] = [link for link in page.links
                         if not (link[0] == "internal" and link[1] not in anchors)]
