"""PDF stage: the report page's HTML to an archival PDF/A-3b file.

The PDF is rendered by WeasyPrint from the same HTML as the report page, with
``templates/pdf.css`` on top for print.  Three rules hold for every render:

* **Safe**: resources are fetched only from the build's own files (the staging
  output root and ``templates/``); anything else -- other paths, devices,
  http(s), data: URLs -- stops the render with a :class:`BuildError` naming the
  report, the reference and why.  A resource WeasyPrint could not load or draw
  is an error too: no PDF is written with a silently missing image.
* **Bounded**: the render runs in a worker process that is killed when the time
  limit is reached.
* **Reproducible**: dates come from the report (or ``SOURCE_DATE_EPOCH``), the
  fonts are shipped under ``templates/fonts/``, attachments carry fixed dates
  and the PDF identifier is a hash of the content, so equal inputs give equal
  bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportgen.core.errors import BuildError
from reportgen.render.pdf_document import Job, Pdf
from reportgen.render.pdf_meta import Attachment, PdfMeta, pdf_inputs, source_date
from reportgen.render.pdf_process import Renderer, warm_up

# The public API: site/reports.py and the tests use these names from here.
__all__ = ["PAPERS", "Attachment", "Pdf", "PdfMeta", "Renderer", "pdf_inputs", "render_pdf",
           "source_date", "warm_up"]

PAPERS = {"a4": "A4", "letter": "letter"}


def render_pdf(html: str, base_dir: Path, *, report: str, meta: PdfMeta,
               attachments: Sequence[Attachment], paper: str = "A4",
               guess: Sequence[str] = (), renderer: Renderer | None = None,
               timeout: float = 120.0) -> Pdf:
    """Render ``html`` (the report page, relative to ``base_dir``) to a PDF.

    ``base_dir`` is the report's staging directory; the fetcher allows files
    under ``base_dir.parent`` and under ``templates/`` only.  ``guess`` is the
    ``fits`` of the report's previous PDF; it can make the render faster and
    never changes its bytes (see :func:`pdf_layout.laid_out`).  ``renderer`` is one
    started ahead (see :class:`Renderer`); without one, one starts now.  Raises
    :class:`BuildError` on a refused or missing resource, a failed render or
    when ``timeout`` seconds pass.
    """
    renderer = renderer or Renderer()
    try:
        size = PAPERS.get(paper.strip().lower())
        if size is None:
            raise BuildError(f"report {report}: unknown paper size '{paper}' (use A4 or Letter)")
        job = Job(html=html, base_dir=str(Path(base_dir).resolve()), report=report,
                  meta=meta, attachments=tuple(attachments), paper=size, guess=tuple(guess))
        return renderer.render(job, timeout)
    finally:
        renderer.close()
