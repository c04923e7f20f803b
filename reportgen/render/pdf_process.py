"""The PDF renderer process: started ahead, killed at the time limit, cleaned up.

This module owns the process a PDF is rendered in (:class:`Renderer`, forked
where the platform can, and its entry point), loading WeasyPrint in it ahead of
its job (:func:`warm_up`), and the scratch folder under ``$TMPDIR`` that holds
the renderer's temporary files: locked with ``flock`` for as long as the build
and the renderer live, removed when the renderer closes, and removed by the
next build when a build killed with SIGKILL left it unlocked.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from pathlib import Path

from reportgen.core import signals
from reportgen.core.errors import BuildError
from reportgen.core.lifeline import die_with
from reportgen.render.pdf_document import Job, Pdf, render


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
        with signals.held():  # a Ctrl-C during the fork is not lost
            self.process.start()
        jobs.close()  # the process's ends
        result_sender.close()

    def render(self, job: Job, timeout: float) -> Pdf:
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
    signals.as_worker()  # forked inside signals.held(), with the command's handlers
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
        results.send(("ok", render(job)))
    except BuildError as exc:
        results.send(("error", str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent by name
        message = f"report {job.report}: PDF rendering failed: {type(exc).__name__}: {exc}"
        results.send(("error", message))
    finally:
        results.close()
