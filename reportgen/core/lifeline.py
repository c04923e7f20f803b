"""Worker processes die with the build that started them.

A build killed with SIGKILL runs no cleanup, so its workers must notice on
their own.  A PDF renderer, a direct child, asks the kernel for SIGKILL when
its parent dies (Linux ``PR_SET_PDEATHSIG``).  A pool worker's parent is the
multiprocessing fork server, which lives as long as any worker does, so pool
workers (and every worker where the kernel offers no such signal) run a
daemon thread that polls the build's process and kills the worker when it is
gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from functools import cache

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.5


def die_with(build: int | None = None) -> None:
    """Kill this process as soon as ``build`` (default: the parent) exits."""
    parent = os.getppid()
    if build is None and sys.platform.startswith("linux"):
        libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_watch, args=(build or parent,), daemon=True,
                         name="lifeline").start()
    if build is None and os.getppid() != parent:  # died before anyone watched
        os._exit(1)


@cache
def libc() -> ctypes.CDLL:
    """The C library this process already has loaded: ``CDLL(None)`` looks
    symbols up in the process itself, where ``ctypes.util.find_library`` would
    run ``ldconfig -p`` (a process of its own) to find the file."""
    return ctypes.CDLL(None, use_errno=True)


def _watch(build: int) -> None:
    while _alive(build):
        time.sleep(_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pid reused by another user's process
        return False
    return True
