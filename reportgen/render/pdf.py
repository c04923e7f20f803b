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

import datetime as dt
import io
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from reportgen.core import resources
from reportgen.core.errors import BuildError
from reportgen.core.lifeline import die_with
from reportgen.core.model import Report

TEMPLATES = resources.TEMPLATES
PDF_CSS = TEMPLATES / "pdf.css"
PAPERS = {"a4": "A4", "letter": "letter"}
PDF_VARIANT = "pdf/a-3b"
# WeasyPrint takes one pdf_variant; PDF/A-3b is it, and pdf_tags adds the same
# structure tree (tagged PDF) that its PDF/UA variant writes.
PDF_TAGS = True
ATTACHMENT_TYPES = {".json": "application/json", ".yml": "application/yaml",
                    ".yaml": "application/yaml"}
DEFAULT_LANG = "en"
MEDIA_TYPES = {
    ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
    ".otf": "font/otf",
}


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


@dataclass(frozen=True)
class Pdf:
    """A rendered PDF and the chart-fitting rules its first layout asked for:
    the next build of the report passes them back as ``guess``."""

    content: bytes
    fits: tuple[str, ...]


def render_pdf(html: str, base_dir: Path, *, report: str, meta: PdfMeta,
               attachments: Sequence[Attachment], paper: str = "A4",
               guess: Sequence[str] = (), renderer: Renderer | None = None,
               timeout: float = 120.0) -> Pdf:
    """Render ``html`` (the report page, relative to ``base_dir``) to a PDF.

    ``base_dir`` is the report's staging directory; the fetcher allows files
    under ``base_dir.parent`` and under ``templates/`` only.  ``guess`` is the
    ``fits`` of the report's previous PDF; it can make the render faster and
    never changes its bytes (see :func:`_laid_out`).  ``renderer`` is one
    started ahead (see :class:`Renderer`); without one, one starts now.  Raises
    :class:`BuildError` on a refused or missing resource, a failed render or
    when ``timeout`` seconds pass.
    """
    renderer = renderer or Renderer()
    try:
        size = PAPERS.get(paper.strip().lower())
        if size is None:
            raise BuildError(f"report {report}: unknown paper size '{paper}' (use A4 or Letter)")
        job = _Job(html=html, base_dir=str(Path(base_dir).resolve()), report=report,
                   meta=meta, attachments=tuple(attachments), paper=size, guess=tuple(guess))
        return renderer.render(job, timeout)
    finally:
        renderer.close()


class Renderer:
    """A process that renders one PDF and is killed at the time limit.

    It loads WeasyPrint as soon as it starts, so one started ahead of its job
    (a single-report build starts it before analysing the report) does that
    on the other core while the caller still works.
    """

    def __init__(self) -> None:
        # WeasyPrint copies every @font-face file into a temporary folder, and a
        # renderer that is killed, or leaves by os._exit, cannot remove it: the
        # renderer's folders go in this one, which close() removes.
        self.scratch, self.lock = _scratch()
        ctx = _context()
        jobs, self.sender = ctx.Pipe(duplex=False)
        self.results, result_sender = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_worker, args=(jobs, result_sender, str(self.scratch)),
                                   daemon=True, name="reportgen-pdf")
        self.process.start()
        jobs.close()  # the process's ends
        result_sender.close()

    def render(self, job: _Job, timeout: float) -> Pdf:
        self.sender.send(job)
        if not self.results.poll(timeout):
            raise BuildError(f"report {job.report}: the PDF took longer than {timeout:g} s"
                             " to render; stopped")
        try:
            kind, value = self.results.recv()
        except EOFError:
            self.process.join(5)
            raise BuildError(f"report {job.report}: the PDF renderer stopped unexpectedly"
                             f" (exit code {self.process.exitcode})") from None
        if kind == "error":
            raise BuildError(str(value))
        assert isinstance(value, Pdf)
        return value

    def close(self) -> None:
        """Stop the process, done or not; closing twice does nothing."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.sender.close()
        self.results.close()
        if self.lock >= 0:
            os.close(self.lock)
            self.lock = -1
        shutil.rmtree(self.scratch, ignore_errors=True)


SCRATCH_PREFIX = "reportgen-pdf-"
LOCK_FILE = ".lock"


def _scratch() -> tuple[Path, int]:
    """A new folder under $TMPDIR for one renderer's temporary files, and the
    descriptor of the lock it holds while the build or the renderer lives.

    A build killed with SIGKILL leaves its folder, unlocked: each new folder is
    made after removing those.  A folder is locked before it gets its name, so
    no build removes the folder of one that is running.
    """
    if sys.platform != "win32":  # pragma: no branch - no flock there
        for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
            _remove_if_unlocked(folder)
    hidden = Path(tempfile.mkdtemp(prefix=f".{SCRATCH_PREFIX}"))
    lock = os.open(hidden / LOCK_FILE, os.O_CREAT | os.O_WRONLY, 0o600)
    if sys.platform != "win32":  # pragma: no branch
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
    folder = hidden.with_name(hidden.name[1:])
    hidden.rename(folder)
    return folder, lock


def _remove_if_unlocked(folder: Path) -> None:
    """Remove a renderer's ``folder`` of this user when no process holds its lock."""
    import fcntl

    try:
        if folder.is_symlink() or folder.lstat().st_uid != os.getuid():
            return  # not ours: /tmp is shared
        lock = os.open(folder / LOCK_FILE, os.O_WRONLY | os.O_NOFOLLOW)
    except OSError:
        return  # gone already, or not a renderer's folder
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        shutil.rmtree(folder, ignore_errors=True)
    except BlockingIOError:
        pass  # a running build's
    finally:
        os.close(lock)


# --- the worker ---------------------------------------------------------------

@dataclass(frozen=True)
class _Job:
    html: str
    base_dir: str
    report: str
    meta: PdfMeta
    attachments: tuple[Attachment, ...]
    paper: str
    guess: tuple[str, ...]


def warm_up() -> None:
    """Lay out a one-line page, so a worker kept between builds has WeasyPrint,
    Pango and fontconfig loaded before its first PDF (forked renderers inherit them)."""
    from reportgen.render.weasy import load

    load().HTML(string="<p>warm</p>").render()


def _context() -> ForkContext | SpawnContext:
    """A process context whose workers start quickly.

    ``fork`` starts a worker in milliseconds and needs no importable main
    module; where there is no fork, ``spawn`` is the portable fallback.  A
    worker forked from a process that has WeasyPrint loaded (a build's pool
    worker) has it at once; any other loads it itself.
    """
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _worker(jobs: Connection, results: Connection, scratch: str) -> None:
    """Process entry point: load WeasyPrint, wait for the job, render it and
    send ("ok", Pdf) or ("error", message).  Temporary files go in ``scratch``."""
    die_with()
    tempfile.tempdir = scratch
    failed: Exception | None = None
    try:
        if not jobs.poll(0):  # started ahead of its job: load now, while waiting
            warm_up()
    except Exception as exc:  # noqa: BLE001 - reported with the job's report below
        failed = exc
    try:
        job = jobs.recv()
    except EOFError:  # closed before a job came: the build stopped early
        return
    try:
        if failed is not None:
            raise failed
        results.send(("ok", _render(job)))
    except BuildError as exc:
        results.send(("error", str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent by name
        message = f"report {job.report}: PDF rendering failed: {type(exc).__name__}: {exc}"
        results.send(("error", message))
    finally:
        results.close()


class _Problems(logging.Handler):
    """Collects what WeasyPrint reports as errors: a failed load is a failed build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR or "cannot be loaded" in message:
            self.messages.append(message)


def _render(job: _Job) -> Pdf:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    # Libraries that stamp "now" into files (fontTools sets a font's head.modified
    # when it rewrites one) read SOURCE_DATE_EPOCH; this worker is a process of its
    # own, so pinning it to the report's date changes nothing for the caller.
    midnight = dt.datetime.combine(job.meta.date, dt.time(), tzinfo=dt.timezone.utc)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(midnight.timestamp()))
    base_dir = Path(job.base_dir)
    fetcher = _fetcher_class()(job.report, (base_dir.parent, TEMPLATES))
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

        document, first = _laid_out(lay_out, job.guess)
        if fetcher.refused:
            raise BuildError(fetcher.refused[0])
        _set_metadata(document.metadata, job.meta)
        _drop_local_links(document)
        stamp = dt.datetime.combine(job.meta.date, dt.time())
        files = [weasyprint.Attachment(file_obj=io.BytesIO(a.content), name=a.name,
                                       description=a.name, created=stamp, modified=stamp,
                                       relationship="Source")
                 for a in job.attachments]
        content = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=PDF_TAGS,
                                     attachments=files, finisher=_finish)
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


SHRINK_LIMIT = 0.7  # a chart is made at most this much smaller to stay on its page
FIT_PASSES = 2  # extra layouts at most: fitting one chart can move the next
PX_PER_MM = 96 / 25.4


def _laid_out(lay_out: Callable[[Sequence[str]], Any], guess: Sequence[str]
              ) -> tuple[Any, list[str]]:
    """The laid-out document with its moved charts fitted, and the rules its
    first layout asked for.

    Without a guess: lay out, fit the charts that moved, lay out again (up to
    FIT_PASSES times).  With the previous build's first rules as ``guess``, a
    forked copy of this process does the first layout while this one lays out
    with the guess; when the copy asks for exactly the guessed rules, the
    second layout is already done, on the second core.  Either way the
    layouts that count are the same, so the PDF is the same bytes.
    """
    document, first = None, None
    if guess and hasattr(os, "fork"):
        copy = _Forked(lambda: _fit_moved_charts(lay_out(())))
        try:
            speculative = lay_out(guess)
        except BaseException:
            copy.cancel()
            raise
        first = copy.result()  # None if the copy failed: then lay out here
        if first == list(guess):
            document = speculative
    if first is None:
        plain = lay_out(())
        first = _fit_moved_charts(plain)
        document = None if first else plain
    if document is None:
        document = lay_out(first)
    fits = list(first)
    for _ in range(FIT_PASSES - 1):  # fitting one chart can move the next
        more = _fit_moved_charts(document) if fits else []
        if not more:
            break
        fits += more
        document = lay_out(fits)
    return document, first


class _Forked:
    """``work`` run in a forked copy of this process, its answer read back as JSON."""

    def __init__(self, work: Callable[[], list[str]]) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the copy: answer, then leave without running any cleanup
            os.close(read)
            status = 1
            try:
                die_with()
                with os.fdopen(write, "wb") as out:
                    out.write(json.dumps(work()).encode())
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self.pipe = os.fdopen(read, "rb")

    def cancel(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pipe.close()

    def result(self) -> list[str] | None:
        """The copy's answer, or None when it failed or was killed."""
        with self.pipe:
            data = self.pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0:
            return None
        answer = json.loads(data)
        assert isinstance(answer, list)
        return [str(rule) for rule in answer]


def _fit_moved_charts(document: Any) -> list[str]:
    """CSS that caps the height of each chart WeasyPrint moved to the top of a new
    page although the page before had room for most of it (SHRINK_LIMIT), so
    the chart is drawn a little smaller there instead of leaving a gap."""
    rules = []
    for before, page in zip(document.pages, document.pages[1:]):
        area = page._page_box  # WeasyPrint's laid-out boxes
        top = area.content_box_y()
        for box in _boxes(area):
            element = getattr(box, "element", None)
            ident = element.get("id", "") if element is not None else ""
            if getattr(box, "element_tag", "") != "figure" or not ident.startswith("chart-"):
                continue
            if box.position_y - top > 1:
                break  # not at the top of the page: it was not moved
            room = _room_left(before._page_box)
            needed = box.margin_height()
            extra = needed - box.height  # margins, borders, padding
            if SHRINK_LIMIT * needed <= room < needed:
                height = (room - extra - 2) / PX_PER_MM
                rules.append(f"#{ident} svg, #{ident} img "
                             f"{{ max-height: {height:.1f}mm !important; }}")
            break
    return rules


def _room_left(page_box: Any) -> float:
    """How much of a page's content area is left below its last line, row or
    image, in CSS px (the blocks around them may reach the page's foot when they
    continue on the next one)."""
    bottom = page_box.content_box_y() + page_box.height
    used = max((b.position_y + b.margin_height() for b in _boxes(page_box)
                if type(b).__name__ in _LEAVES or not getattr(b, "children", None)),
               default=page_box.content_box_y())
    return max(0.0, float(bottom - used))


_LEAVES = {"LineBox", "TableRowBox", "BlockReplacedBox", "InlineReplacedBox"}


def _boxes(box: Any) -> Iterator[Any]:
    """Every box under ``box`` in document order (margin boxes excluded)."""
    for child in getattr(box, "children", ()):
        if type(child).__name__ == "MarginBox":
            continue
        yield child
        yield from _boxes(child)


def _finish(document: Any, pdf: Any) -> None:
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


def _set_metadata(metadata: Any, meta: PdfMeta) -> None:
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


def _drop_local_links(document: Any) -> None:
    """Remove links to local files: they would point into the build's staging dir.

    Relative links of the web page (other formats, data files, the site index)
    resolve to file:// URLs here, which mean nothing to a reader of the PDF and
    would put the build machine's paths into its bytes.  The link text stays.
    """
    for page in document.pages:
        page.links[:] = [link for link in page.links
                         if not (link[0] == "external" and str(link[1]).startswith("file:"))]


def _fetcher_class() -> Any:
    """The safe fetcher, defined lazily so importing this module stays cheap."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):  # type: ignore[misc]
        """Serves regular files under the allowed roots; refuses everything else."""

        def __init__(self, report: str, roots: Sequence[Path]) -> None:
            super().__init__(allowed_protocols=("file",), fail_on_errors=True)
            self.report = report
            self.roots = tuple(Path(r).resolve() for r in roots)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            path, why = self._check(url)
            if path is None:
                message = f"report {self.report}: cannot use '{url}': {why}"
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            kind = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                      headers={"Content-Type": kind})

        def _check(self, url: str) -> tuple[Path | None, str]:
            parts = urlsplit(url)
            if parts.scheme != "file":
                kind = f"{parts.scheme}:" if parts.scheme else "a relative reference"
                return None, (f"{kind} resources are not allowed; a PDF uses only the"
                              " build's own files")
            if parts.netloc not in ("", "localhost"):
                return None, "files on other hosts are not allowed"
            path = Path(unquote(parts.path))
            resolved = path.resolve()
            if not any(resolved.is_relative_to(root) for root in self.roots):
                return None, "only the build's own files (charts, styles, fonts) may be used"
            if not resolved.exists():
                return None, "no such file in the build"
            if not resolved.is_file():
                return None, "not a regular file"
            return resolved, ""

    return SafeFetcher
