"""SIGINT, SIGTERM and SIGHUP stop a command the way Ctrl-C does.

`reportgen.cli` wraps every command in :func:`stop_on_signals`: the signal
becomes :class:`Stopped`, raised in the main thread, so ``finally`` blocks
and context managers clean up (staging dirs, temporary files, the remote
directory, child processes) while it unwinds.  The command then prints one
line naming the signal (``str(stop)``) and exits with :attr:`Stopped.status`,
128 + the signal's number, as a shell reports a process killed by it: 130
for SIGINT, 143 for SIGTERM, 129 for SIGHUP.

probes/run.py cannot import reportgen; its own handler follows the same rule.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stopping signal arrived.  A KeyboardInterrupt, so that whatever cleans
    up after Ctrl-C does so after SIGTERM and SIGHUP too, and so that
    ``except Exception`` lets it pass."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @classmethod
    def of(cls, interrupt: KeyboardInterrupt) -> Stopped:
        """``interrupt`` itself, or SIGINT for Python's own KeyboardInterrupt
        (a Ctrl-C while our handler was not in place)."""
        return interrupt if isinstance(interrupt, Stopped) else cls(signal.SIGINT)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def status(self) -> int:
        """The exit status: 128 + the signal's number."""
        return 128 + self.signum

    def __str__(self) -> str:
        return f"stopped by signal {self.signum} ({self.name})"


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Raise :class:`Stopped` for SIGINT, SIGTERM and SIGHUP inside the block;
    the previous handlers are back after it.

    Only the main thread may set handlers, and Python runs them there: in any
    other thread (a build run by `reportgen serve`'s watcher) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise) for signum in STOPPING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def held() -> Iterator[None]:
    """Hold the stopping signals back inside the block (a fork), then let them in.

    A signal that lands while os.fork runs Python's at-fork hooks (logging's
    lock release) raises :class:`Stopped` inside the hook, where Python prints
    "Exception ignored" and drops it: the stop would be lost.  Held back, it
    is delivered when the block ends, and raised in ordinary code.  The child
    inherits the mask: it calls :func:`let_in` first thing.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        yield
    finally:
        let_in()


def let_in() -> None:
    """Deliver the stopping signals again (and any that were held back)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


def as_worker() -> None:
    """In a child forked from a command (the PDF renderer): leave stopping to the parent.

    The child inherits the command's handler, which would raise
    :class:`Stopped` in it too and print a second traceback.  Ctrl-C reaches
    the whole process group, so the child ignores SIGINT and SIGHUP and lets
    the parent stop it; SIGTERM (multiprocessing's own way of ending a daemon
    child at exit) ends it at once, quietly.  Then held-back signals are let in.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    let_in()


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)
