"""Running a measurement in a child process, with a time limit.

Every sample runs in a child (the C helper, the Python worker, sysbench or
dd) in its own session, so that a hung sample can be killed with all of its
children, and Ctrl-C in the terminal reaches the runner alone, which then
stops the child itself.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from typing import NamedTuple


class ProbeError(Exception):
    """The probe ran and failed: recorded as status "failed"."""


class ProbeSkipped(Exception):
    """The probe cannot run here (no space, no tool): status "skipped"."""


class ProbeTimeout(Exception):
    """The probe went past its time limit: status "timeout"."""


class Result(NamedTuple):
    stdout: str
    stderr: str
    elapsed_s: float  # wall clock from spawn to exit, seen by the runner
    cpu_s: float  # user + system CPU time the kernel charged to the child


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


# While a child is being started, the runner's interrupt is held back: were
# it raised inside Popen, the child would exist with nobody left to kill it.
_starting = False
_held: BaseException | None = None


def interrupt(exc: BaseException) -> None:
    """Raise `exc` now, or as soon as the child being started is known."""
    global _held
    if _starting:
        _held = exc
    else:
        raise exc


def _release_held() -> None:
    global _held
    held, _held = _held, None
    if held is not None:
        raise held


def run(argv: list[str], timeout: float, cwd: str | None = None) -> Result:
    """Run `argv` to completion; raise ProbeTimeout or ProbeError.

    Any other exception while it runs (the runner's interrupt) kills the
    child's whole process group before propagating.
    """
    global _starting
    if timeout <= 0:
        raise ProbeTimeout("time limit reached")
    start = time.perf_counter()
    cpu_before = _children_cpu()  # samples run one at a time: the delta is this child's
    proc = None
    try:
        _starting = True
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, cwd=cwd, text=True,
                                    start_new_session=True)
        finally:
            _starting = False
        _release_held()
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        assert proc is not None
        _kill_group(proc)
        raise ProbeTimeout(f"time limit reached after {time.perf_counter() - start:.1f} s")
    except OSError as exc:
        _release_held()
        raise ProbeError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    except BaseException:
        if proc is not None:
            _kill_group(proc)
        raise
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        detail = (err.strip().splitlines() or ["no message"])[-1]
        name = os.path.basename(argv[0])
        raise ProbeError(f"{name} exited with status {proc.returncode}: {detail}")
    return Result(out, err, elapsed, _children_cpu() - cpu_before)


def numbers(text: str, count: int) -> list[float]:
    """The first `count` numbers a helper printed; ProbeError if missing."""
    fields = text.split()
    try:
        values = [float(field) for field in fields[:count]]
    except ValueError:
        values = []
    if len(values) != count:
        raise ProbeError(f"unexpected helper output: {text[:200]!r}")
    return values


def output(argv: list[str], with_stderr: bool = False) -> str:
    """stdout (and stderr) of a short command whatever its status; "" if it
    cannot run.  For reading system facts, not for measuring."""
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, check=False,
                              stderr=subprocess.STDOUT if with_stderr else subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def version_line(argv: list[str]) -> str | None:
    """First output line of a `--version`-style command, or None."""
    for line in output(argv, with_stderr=True).splitlines():
        if line.strip():
            return line.strip()
    return None
