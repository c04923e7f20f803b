"""What a report's PDF says about itself: its metadata and its attachments.

This module owns the document information and XMP metadata (title, author,
subject, keywords, language and the reproducible date from the report or
``SOURCE_DATE_EPOCH``), the input files embedded as PDF/A-3 associated files
with their media types, and the last touches WeasyPrint's PDF objects get so
that each attachment is listed once.  It needs no WeasyPrint to import: the
objects it touches are handed to it by :mod:`reportgen.render.pdf_document`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.core.errors import BuildError
from reportgen.core.model import Report

ATTACHMENT_TYPES = {".json": "application/json", ".yml": "application/yaml",
                    ".yaml": "application/yaml"}
DEFAULT_LANG = "en"


@dataclass(frozen=True)
class PdfMeta:
    """The PDF's document information and XMP metadata."""

    title: str
    author: str
    subject: str
    keywords: tuple[str, ...]
    lang: str
    date: dt.date


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (PDF/A-3 associated file)."""

    name: str  # e.g. "results/guest.json" or "report.yml"
    content: bytes


def source_date(date: dt.date | None = None) -> dt.date:
    """The date a PDF carries: ``date`` if given, else ``SOURCE_DATE_EPOCH``.

    Without either there is no reproducible date, which is a build error.
    """
    if date is not None:
        return date
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        raise BuildError("the report has no date and SOURCE_DATE_EPOCH is not set")
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    except (ValueError, OverflowError, OSError):
        raise BuildError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None


def pdf_inputs(report: Report) -> tuple[PdfMeta, list[Attachment]]:
    """The metadata and attachments of ``report``'s PDF."""
    base = next((e for e in report.environments if e.label == report.baseline), None)
    others = [_first_sentence(e.description) or e.label for e in report.others]
    subject = "Benchmark report"
    if base is not None and others:
        subject = (f"Benchmark report: {', '.join(others)} compared with"
                   f" {_first_sentence(base.description) or base.label}")
    meta = PdfMeta(
        title=report.title,
        author=report.author,
        subject=subject,
        keywords=tuple(report.keywords),
        lang=DEFAULT_LANG,
        date=source_date(report.date),
    )
    return meta, [Attachment(f.name, f.content) for f in report.inputs]


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    return text.split(". ")[0].rstrip(".")


def finish(document: Any, pdf: Any) -> None:
    """Last touches on the PDF objects before they are written.

    WeasyPrint's PDF/A-3 step lists each attachment twice in the catalog's /AF
    (once from the EmbeddedFiles name tree, once from the file specification),
    and it names a type only for extensions Python's mimetypes knows.  Each
    attachment is listed once here, with its media type from ATTACHMENT_TYPES.
    """
    if "AF" in pdf.catalog:
        pdf.catalog["AF"][:] = list(dict.fromkeys(pdf.catalog["AF"]))
    for obj in pdf.objects:
        if isinstance(obj, dict) and obj.get("Type") == "/Filespec":
            kind = ATTACHMENT_TYPES.get(Path(obj["UF"].string).suffix.lower())
            if kind is not None:
                stream = pdf.objects[int(obj["EF"]["F"].split()[0])]
                stream.extra["Subtype"] = "/" + kind.replace("/", "#2f")


def set_metadata(metadata: Any, meta: PdfMeta) -> None:
    """Replace what WeasyPrint read from the HTML with the report's own metadata."""
    stamp = f"{meta.date.isoformat()}T00:00:00Z"
    metadata.title = meta.title
    metadata.authors = [meta.author] if meta.author else []
    metadata.description = meta.subject
    metadata.keywords = list(meta.keywords)
    metadata.lang = meta.lang
    metadata.created = stamp
    metadata.modified = stamp
    metadata.generator = "reportgen"
