"""Worker processes die with the process that started them.

A build killed with SIGKILL runs no cleanup, so its workers must notice on
their own: on Linux the kernel sends them SIGKILL when their parent dies
(``PR_SET_PDEATHSIG``); elsewhere (FreeBSD) a daemon thread polls the parent's pid.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.5


def die_with_parent(parent: int | None = None) -> None:
    """Kill this process as soon as ``parent`` (default: the current parent) exits."""
    parent = os.getppid() if parent is None else parent
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:  # no thread on Linux: these workers fork the PDF renderer
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="lifeline").start()
    if os.getppid() != parent:  # died before the kernel watched for it
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)
