"""`reportgen serve`: build, serve the output on 127.0.0.1, rebuild on changes.

Three small parts, each testable on its own:

* :class:`Watcher` polls the inputs' modification times and sizes (site.yml,
  every report's report.yml and results/*.json, the templates);
* :class:`Preview` runs the ordinary build and remembers the last error; its
  render workers stay up between builds, with matplotlib, WeasyPrint and the
  templates loaded, so a rebuild pays no start-up;
* :func:`make_server` serves the output directory with the standard library's
  http.server; while the last build failed, every HTML page is an error page
  listing the problems (status 500) and everything else is the last good build.
  Every HTML page it serves gets a small script (:data:`RELOAD_SCRIPT`) that
  reloads the page once a newer build succeeded; the files on disk never have it.
"""

from __future__ import annotations

import html
import io
import os
import shutil
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from reportgen.core import errors
from reportgen.core.errors import Problem, ReportgenError, WriteRefused
from reportgen.read import site_yml
from reportgen.render.html import templates_dir
from reportgen.site import build as build_mod

if TYPE_CHECKING:
    from reportgen.site.reports import Pool

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_FORMATS = ("html", "txt", "md")
POLL_SECONDS = 0.5
GENERATION_PATH = "/__reportgen/generation"  # the number of good builds, as text
# Injected into served pages only: polls the generation and reloads when it moves.
RELOAD_SCRIPT = """<script>
(function () {
  var seen = "%d";
  setInterval(function () {
    fetch("%s", {cache: "no-store"}).then(function (r) { return r.text(); }).then(
      function (now) { if (now !== seen) { location.reload(); } }, function () {});
  }, 1000);
})();
</script>
"""

Log = Callable[[str], None]
Stamp = tuple[int, int]  # (mtime in ns, size)


class ServeError(ReportgenError):
    """The preview cannot start (e.g. the port is taken)."""


# --- watching ----------------------------------------------------------------

class InputFiles:
    """The files a build reads: site.yml, reports' report.yml and results, templates.

    The report directories come from site.yml each time, so new reports are
    seen; while site.yml is broken the last known directories are used.
    """

    def __init__(self, site_file: Path) -> None:
        self.site_file = site_file
        self.report_dirs: tuple[Path, ...] = ()

    def __call__(self) -> list[Path]:
        try:
            self.report_dirs = site_yml.load_site(self.site_file).report_dirs
        except ReportgenError:
            pass  # keep watching what we knew; site.yml itself is watched
        paths = [self.site_file, templates_dir()]
        for report_dir in self.report_dirs:
            paths.append(report_dir / "report.yml")
            paths.extend(sorted((report_dir / "results").glob("*.json")))
        return paths


class Watcher:
    """Tells whether any watched file changed (mtime or size) since the last look."""

    def __init__(self, paths: Callable[[], Iterable[Path]]) -> None:
        self._paths = paths
        self._last = self.snapshot()

    def snapshot(self) -> dict[Path, Stamp]:
        stamps: dict[Path, Stamp] = {}
        for path in self._paths():
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for file in files:
                try:
                    st = file.stat()
                except OSError:
                    continue  # missing: its absence is the change
                stamps[file] = (st.st_mtime_ns, st.st_size)
        return stamps

    def changed(self) -> bool:
        now = self.snapshot()
        if now == self._last:
            return False
        self._last = now
        return True


# --- building ----------------------------------------------------------------

class Preview:
    """Runs the build and holds the last error (None after a good build).

    Each build prints only the warnings that are new since the last good
    build: those are still on screen, and an edit should not bring them back
    (one that only moved, with the lines above it, is not new either).
    """

    def __init__(self, site_file: Path, output: Path, formats: tuple[str, ...],
                 log: Log = build_mod.stderr, verbose: bool = False) -> None:
        self.site_file = site_file
        self.output = output
        self.formats = formats
        self.log = log
        self.verbose = verbose
        self.warnings: list[Problem] = []  # the last good build's
        self.builds = 0  # finished builds, good or bad
        self.generation = 0  # good builds: a page reloads when this moves on
        self._error: str | None = None
        self._lock = threading.Lock()
        self._building = threading.Lock()
        self._pool: Pool | None = None  # warm render workers, made by the first build

    def close(self) -> None:
        """Stop the render workers."""
        with self._building:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    @property
    def error(self) -> str | None:
        with self._lock:
            return self._error

    def rebuild(self) -> bool:
        """Build once; on failure keep the previous output and remember why."""
        with self._building:
            try:
                # The preview keeps its PDF snapshots in its own output, never
                # in the site's archive.
                if self._pool is None:
                    # The render stage loads matplotlib in its workers' preload;
                    # a preview that never built (bad input) does without it.
                    from reportgen.site.reports import Pool

                    self._pool = Pool(pdf="pdf" in self.formats)
                built = build_mod.build(self.site_file, output_dir=self.output,
                                        formats=self.formats, archive_dir=self.output / "archive",
                                        log=self.log, pool=self._pool, verbose=self.verbose,
                                        known=self.warnings)
                self.warnings = built.warnings
            except (ReportgenError, WriteRefused) as exc:
                error: str | None = str(exc)
                self.log(f"build failed; still serving the last good build:\n{exc}")
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the preview
                error = f"internal error: {type(exc).__name__}: {exc}"
                self.log(f"build crashed; still serving the last good build:\n"
                         f"{traceback.format_exc().rstrip()}")
            else:
                error = None
            with self._lock:
                self._error = error
                self.builds += 1
                if error is None:
                    self.generation += 1
            return error is None


def watch(preview: Preview, watcher: Watcher, stop: threading.Event,
          interval: float = POLL_SECONDS) -> None:
    """Rebuild whenever the inputs change, until ``stop`` is set."""
    while not stop.wait(interval):
        if watcher.changed():
            preview.log("change detected, rebuilding")
            preview.rebuild()


# --- serving -----------------------------------------------------------------

def error_page(error: str) -> bytes:
    items = "\n".join(f"<li><code>{html.escape(line)}</code></li>"
                      for line in error.splitlines() if line.strip())
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"refresh\" content=\"2\">\n"
        "<title>reportgen: build failed</title>\n</head>\n<body>\n"
        "<h1>The build failed</h1>\n"
        "<p>Fix these problems and save; this page reloads every 2 seconds.</p>\n"
        f"<ul>\n{items}\n</ul>\n</body>\n</html>\n"
    ).encode()


def make_server(preview: Preview, port: int = DEFAULT_PORT, host: str = HOST
                ) -> ThreadingHTTPServer:
    """An HTTP server for ``preview.output``; port 0 picks a free port."""
    root = preview.output

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def send_head(self) -> Any:
            if urlsplit(self.path).path == GENERATION_PATH:
                return self._send(HTTPStatus.OK, str(preview.generation).encode(),
                                  "text/plain; charset=utf-8")
            error = preview.error
            if error is not None and self._is_page():
                return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, error_page(error))
            target = Path(self.translate_path(self.path))
            if not _inside(target, root):
                self.send_error(HTTPStatus.NOT_FOUND)
                return None
            page = _page_file(target)
            if page is not None and not urlsplit(self.path).path.endswith("/") \
                    and target.is_dir():
                return super().send_head()  # the redirect to the folder's own URL
            if page is not None:
                return self._send(HTTPStatus.OK, with_reload(page.read_bytes(),
                                                             preview.generation))
            return super().send_head()

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _is_page(self) -> bool:
            path = unquote(urlsplit(self.path).path)
            if path.endswith(("/", ".html", ".htm")):
                return True
            return Path(self.translate_path(self.path)).is_dir() or "." not in Path(path).name

        def _send(self, status: HTTPStatus, body: bytes,
                  kind: str = "text/html; charset=utf-8") -> io.BytesIO:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if str(code).startswith(("4", "5")):
                super().log_request(code, size)

    try:
        return ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def with_reload(page: bytes, generation: int) -> bytes:
    """``page`` with the reload script before its closing body tag."""
    script = (RELOAD_SCRIPT % (generation, GENERATION_PATH)).encode()
    head, found, tail = page.rpartition(b"</body>")
    return head + script + found + tail if found else page + script


def _page_file(target: Path) -> Path | None:
    """The HTML file a request for ``target`` is answered with, if it is a page."""
    if target.is_dir():
        target = target / "index.html"
    return target if target.suffix in (".html", ".htm") and target.is_file() else None


def _inside(path: Path, root: Path) -> bool:
    """True when ``path``, with symlinks resolved, is ``root`` or below it."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top + os.sep)


def url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/"


# --- the command -------------------------------------------------------------

def serve(site_file: Path, *, port: int = DEFAULT_PORT,
          formats: tuple[str, ...] = DEFAULT_FORMATS, output_dir: Path | None = None,
          log: Log = build_mod.stderr, verbose: bool = False) -> None:
    """Build, serve and rebuild until Ctrl-C, or signals.Stopped (SIGTERM, SIGHUP)
    from the command's handler; a temporary output dir unless given."""
    # A temporary output lies in a folder of its own, with the lock and the
    # kept previous output the build writes beside it, all removed at the end.
    temporary: Path | None = None
    if output_dir is None:
        temporary = Path(tempfile.mkdtemp(prefix="reportgen-serve-"))
        output = temporary / "site"
    else:
        output = output_dir.resolve()
    stop = threading.Event()
    thread: threading.Thread | None = None
    server: ThreadingHTTPServer | None = None
    preview: Preview | None = None
    try:
        preview = Preview(site_file, output, formats, log, verbose)
        server = make_server(preview, port)
        watcher = Watcher(InputFiles(site_file))  # before the build: edits during it count
        preview.rebuild()
        thread = threading.Thread(target=watch, args=(preview, watcher, stop),
                                  name="reportgen-watch", daemon=True)
        thread.start()
        shown = str(output) if temporary is not None else errors.display(output)
        log(f"serving {shown} at {url(server)} (Ctrl-C to stop)")
        server.serve_forever(poll_interval=POLL_SECONDS)
    except KeyboardInterrupt:  # Stopped is one: the command prints which signal
        log("stopping")
        raise
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)  # let a running build finish its swap
        if preview is not None:
            preview.close()
        if server is not None:
            server.server_close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
