"""`reportgen probe --ssh`: run the probe bundle on another machine over OpenSSH.

Everything travels through one `ssh` process (the system's client, so
~/.ssh/config, ProxyJump, keys and the agent apply): its stdin carries a
small driver program, a header line and the bundle; the driver keeps the
probes' progress on stderr and sends the results file back on stdout.  The
remote command is the same short line whatever the login shell, and the
arguments travel inside the header, so no remote quoting is involved.

The driver owns its temporary directory: it removes it when the probes end,
when it is signalled, and when its stdin closes (the connection dropped or
we stopped it).  When a run ends without the driver saying it removed the
directory (stopped, timed out, connection lost), a second ssh call removes
it; when that cannot reach the machine either, the final line names what is
left there and the command that removes it.

Every ssh call is bounded: ConnectTimeout for the connection, ServerAlive*
for a machine that stops answering mid-run, and the second call as a whole
by CLEANUP_LIMIT, so a frozen guest ends a run instead of holding it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from reportgen.core import atomic
from reportgen.core.errors import ReportgenError
from reportgen.core.signals import Stopped
from reportgen.measure import bundle

SSH_COMMAND_ENV = "REPORTGEN_SSH_COMMAND"
TAG = "reportgen-remote: "
# ssh's own failures (could not connect, authentication refused) exit with 255.
SSH_FAILED = 255
EXIT_NO_PYTHON, EXIT_OLD_PYTHON, EXIT_COPY_FAILED = 90, 91, 93
_TARGET = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>[^@\s:]+|\[[0-9A-Fa-f:.]+\])"
                     r"(?::(?P<port>[0-9]+))?$")
_REMOTE_DIR = re.compile(r"^/[A-Za-z0-9_./-]*/reportgen-remote-[A-Za-z0-9_]+$")

# Bounds on the ssh calls (seconds), for a guest that may be slow but not dead:
# a QEMU guest without acceleration under load answers in seconds, so the
# bounds that declare it gone leave ten times that or more (docs/probes.md,
# "When the machine stops answering").  The user's ssh command or ssh config
# can set the first three.
CONNECT_TIMEOUT = 30  # TCP connect and ssh's greeting
ALIVE_INTERVAL = 15  # silence after which ssh asks the server whether it is there
ALIVE_COUNT = 4  # unanswered asks in a row after which ssh gives up: about a minute
DRIVER_GRACE = 5  # for the driver to clean up and end once its stdin closed
STOP_GRACE = 2  # for ssh to end on SIGTERM (at once), and its output after it
CLEANUP_CONNECT = 10  # the second call's ConnectTimeout
CLEANUP_LIMIT = 15  # the second call as a whole
READ_GRACE = 10  # for ssh's output to end once ssh has

# Runs on the measured machine with its python3: Python 3.8 and the standard
# library, and a syntax old interpreters can still parse to report their age.
DRIVER = r'''
import sys
if sys.version_info < (3, 8):
    sys.stderr.write("reportgen-remote: old-python %d.%d.%d\n" % sys.version_info[:3])
    sys.stderr.flush()
    import os
    os._exit(91)
import json, os, shutil, signal, subprocess, tempfile, threading
stdin = sys.stdin.buffer
head = json.loads(stdin.readline().decode())
state = {"child": None}


def say(*words):
    sys.stderr.write("reportgen-remote: " + " ".join(str(w) for w in words) + "\n")
    sys.stderr.flush()


def stop(signum, frame):
    raise SystemExit(128 + signum)


def lifeline():
    # Our stdin stays open until the caller is done: its end means stop.
    while os.read(0, 65536):
        pass
    child = state["child"]
    if child is not None and child.poll() is None:
        child.terminate()
    os.kill(os.getpid(), signal.SIGTERM)


def main(top):
    status = 1
    try:
        say("dir", top)
        bundle = os.path.join(top, "probe.pyz")
        left = head["size"]
        try:
            with open(bundle, "wb") as out:
                while left:
                    chunk = stdin.read(min(left, 65536))
                    if not chunk:
                        say("copy-cut")
                        return 1
                    out.write(chunk)
                    left -= len(chunk)
        except OSError as exc:
            say("copy-failed", exc.errno, exc.strerror)
            return 93
        threading.Thread(target=lifeline, daemon=True).start()
        results = os.path.join(top, "results.json")
        env = dict(os.environ, TMPDIR=top, REPORTGEN_PROBES_CACHE=os.path.join(top, "cache"))
        state["child"] = subprocess.Popen(
            [sys.executable, bundle] + head["args"] + ["-o", results],
            stdin=subprocess.DEVNULL, stdout=2, cwd=top, env=env)
        status = state["child"].wait()
        if os.path.exists(results):
            with open(results, "rb") as src:
                data = src.read()
            say("results", len(data))
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        return status
    finally:
        child = state["child"]
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()


for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
    signal.signal(signum, stop)
code = 1
top = None
try:
    top = tempfile.mkdtemp(prefix="reportgen-remote-")
    code = main(top)
except OSError as exc:
    say("mkdtemp-failed", exc.errno, exc.strerror)
    code = 93
except SystemExit as exc:
    code = exc.code
finally:
    if top is not None:
        shutil.rmtree(top, ignore_errors=True)
        say("removed", top)
os._exit(code)
'''
REMOTE_COMMAND = 'python3 -c "import sys;exec(sys.stdin.buffer.read({size}))"'


class RunError(ReportgenError):
    """The remote run could not start or finish; one line, nothing written locally."""


@dataclass(frozen=True)
class Target:
    """``[user@]host[:port]`` as given on the command line."""

    text: str
    login: str  # user@host, or host
    port: str | None

    @classmethod
    def parse(cls, text: str) -> Target:
        match = _TARGET.match(text)
        if match is None:
            raise RunError(f"reportgen probe: --ssh {text!r}: expected [user@]host[:port]")
        login = match["host"].strip("[]")
        if match["user"]:
            login = f"{match['user']}@{login}"
        return cls(text, login, match["port"])


def ssh_command(explicit: str | None) -> list[str]:
    """The ssh command: --ssh-command, else $REPORTGEN_SSH_COMMAND, else plain ssh."""
    text = explicit or os.environ.get(SSH_COMMAND_ENV) or "ssh"
    words = shlex.split(text)
    if not words:
        raise RunError("reportgen probe: the ssh command is empty")
    return words


def _port(target: Target) -> list[str]:
    return ["-p", target.port] if target.port else []


def ssh_argv(command: Sequence[str], target: Target, remote: str,
             connect: int = CONNECT_TIMEOUT) -> list[str]:
    """ssh in batch mode (stdin carries our data, so ssh must never ask for a
    password), bounded by :func:`bounds`."""
    return [*command, "-o", "BatchMode=yes", *bounds(command, target, connect),
            *_port(target), "--", target.login, remote]


def bounds(command: Sequence[str], target: Target, connect: int) -> list[str]:
    """``-o`` options for ConnectTimeout and the keep-alive, less those the
    user's ssh command or ssh config already set.

    ssh keeps the first value it gets for an option and reads its command
    line before its config files: put after the user's words, ours lose to
    theirs but would beat ~/.ssh/config, so ``ssh -G`` tells what the config
    sets.  A setting equal to ssh's default (no timeout, no keep-alive) is
    taken as not set.
    """
    given = _configured(tuple(command), target)
    options = []
    if given.get("connecttimeout", "none") == "none":
        options.append(f"ConnectTimeout={connect}")
    if given.get("serveraliveinterval", "0") == "0":
        options.append(f"ServerAliveInterval={ALIVE_INTERVAL}")
        if given.get("serveralivecountmax", "3") == "3":
            options.append(f"ServerAliveCountMax={ALIVE_COUNT}")
    return [word for option in options for word in ("-o", option)]


@functools.lru_cache(maxsize=8)
def _configured(command: tuple[str, ...], target: Target) -> dict[str, str]:
    """What ``ssh -G`` says ssh would use for ``target`` (lower-case names);
    empty when the command is no ssh that knows -G."""
    try:
        done = subprocess.run([*command, "-G", *_port(target), "--", target.login],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=CLEANUP_CONNECT, check=False, start_new_session=True)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if done.returncode != 0:
        return {}
    pairs = (line.split(" ", 1) for line in done.stdout.splitlines())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


@dataclass
class Session:
    """What the remote side told us on stderr, and what it printed otherwise."""

    remote_dir: str | None = None
    removed: bool = False
    results_size: int | None = None
    copy_error: tuple[int, str] | None = None
    old_python: str | None = None
    cut: bool = False
    tail: list[str] = field(default_factory=list)
    ssh_said: str | None = None  # ssh's own last message, e.g. why it gave up
    finished: threading.Event = field(default_factory=threading.Event)

    def read(self, stream: IO[bytes], echo: IO[str]) -> None:
        for raw in stream:
            # ssh ends its own messages with CRLF; a bare \r would be escaped on printing
            line = raw.decode(errors="replace").rstrip("\r\n")
            if line.startswith(TAG):
                self._tagged(line[len(TAG):].split(" "))
                continue
            self.tail = (self.tail + [line])[-5:]
            if raw.endswith(b"\r\n"):  # ssh's own message: summed up in the final line
                self.ssh_said = line
                continue
            if self.remote_dir is None:
                continue  # ssh's or the shell's complaint: summed up in one line at the end
            if self.remote_dir in line:
                continue  # e.g. where the probes wrote: a path that is gone at the end
            echo.write(line + "\n")
            echo.flush()
        self.finished.set()

    def _tagged(self, words: list[str]) -> None:
        kind, rest = words[0], words[1:]
        if kind == "dir" and rest and _REMOTE_DIR.match(rest[0]):
            self.remote_dir = rest[0]
        elif kind == "removed":
            self.removed = True
        elif kind == "results" and rest and rest[0].isdigit():
            self.results_size = int(rest[0])
        elif kind in ("copy-failed", "mkdtemp-failed") and len(rest) >= 2 and rest[0].isdigit():
            self.copy_error = (int(rest[0]), " ".join(rest[1:]))
        elif kind == "old-python" and rest:
            self.old_python = rest[0]
        elif kind == "copy-cut":
            self.cut = True


def run(target: Target, command: Sequence[str], probe_args: Sequence[str], output: Path,
        time_limit: float, echo: IO[str] = sys.stderr, *, announce: bool = True) -> int:
    """Run the bundle on ``target`` and write its results to ``output``, and
    say so unless ``announce`` is false (a round's scratch file).

    Returns the probes' exit status (0, or 1 when a metric failed), or 128 +
    N when signal N stopped the session (Stopped, from the command's
    handler); raises RunError for everything that kept the run from
    producing a file.
    """
    payload = bundle.build_bytes()
    driver = DRIVER.encode()
    header = json.dumps({"size": len(payload), "args": list(probe_args)}).encode() + b"\n"
    argv = ssh_argv(command, target, REMOTE_COMMAND.format(size=len(driver)))
    session = Session()
    # A session of its own: a Ctrl-C at the terminal reaches us, not ssh,
    # so that we decide the order in which things stop.
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    reader = threading.Thread(target=session.read, args=(proc.stderr, echo), daemon=True)
    reader.start()
    feeder = threading.Thread(target=_feed, args=(proc.stdin, driver + header + payload),
                              daemon=True)
    feeder.start()
    chunks: list[bytes] = []
    collector = threading.Thread(target=_collect, args=(proc.stdout, chunks), daemon=True)
    collector.start()
    where = f"reportgen probe: {target.text}"
    try:
        status = proc.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        _end(proc, session)
        raise RunError(f"{where}: stopped after the time limit of {time_limit:g} s "
                       f"(--time-limit); {_cleanup(target, command, session)}") from None
    except Stopped as stop:
        _end(proc, session)
        echo.write(f"{where}: stopped by {stop.name}; {_cleanup(target, command, session)}\n")
        return stop.status
    finally:
        _close(proc.stdin)
    collector.join(timeout=READ_GRACE)
    session.finished.wait(timeout=READ_GRACE)
    data = b"".join(chunks)
    if session.results_size is not None and len(data) > session.results_size:
        data = data[-session.results_size:]  # what a login script printed comes first
    problem = _problem(target, status, session, data)
    if problem and session.remote_dir and not session.removed:
        problem += "; " + _cleanup(target, command, session)
    if problem:
        raise RunError(problem)
    atomic.write_bytes(output, data)
    if announce:
        echo.write(f"wrote {output}\n")
    return status


def _feed(stream: IO[bytes], data: bytes) -> None:
    # Stdin stays open after the data: the driver treats its end as "stop".
    try:
        stream.write(data)
        stream.flush()
    except OSError:  # the remote side ended early; its stderr says why
        pass


def _collect(stream: IO[bytes], chunks: list[bytes]) -> None:
    chunks.extend(iter(lambda: stream.read(65536), b""))


def _close(stream: IO[bytes]) -> None:
    try:
        stream.close()
    except OSError:
        pass


def _end(proc: subprocess.Popen[bytes], session: Session) -> None:
    """Stop the session: close the driver's lifeline (it stops the probes and
    removes its directory), then end ssh if the driver has not within
    DRIVER_GRACE (a frozen machine never answers)."""
    assert proc.stdin is not None
    _close(proc.stdin)
    try:
        proc.wait(timeout=DRIVER_GRACE)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    session.finished.wait(timeout=STOP_GRACE)


def _cleanup(target: Target, command: Sequence[str], session: Session) -> str:
    """Make sure the remote directory is gone; say so, or what is left and how
    to remove it, as the end of the run's final line."""
    if session.removed:
        return "removed the remote temporary directory, wrote nothing"
    if session.remote_dir is None:
        return "wrote nothing"  # the driver made no directory, or never said so
    remove = "rm -rf " + session.remote_dir  # _REMOTE_DIR: nothing to quote
    argv = ssh_argv(command, target, remove, connect=CLEANUP_CONNECT)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=CLEANUP_LIMIT, check=False,
                              start_new_session=True)
    except subprocess.TimeoutExpired:
        why = f"no answer within {CLEANUP_LIMIT} s"
    else:
        if done.returncode == 0:
            return "removed the remote temporary directory, wrote nothing"
        said = done.stderr.decode(errors="replace").strip().splitlines()
        why = said[-1].strip().rstrip(".") if said else f"ssh exit status {done.returncode}"
    by_hand = shlex.join([*command, *_port(target), target.login, remove])
    return (f"wrote nothing, and could not remove {session.remote_dir} there ({why}); "
            f"remove it with: {by_hand}")


def _problem(target: Target, status: int, session: Session, data: bytes) -> str | None:
    """One line saying why there is no results file, or None when there is one."""
    where = f"reportgen probe: {target.text}"
    said = session.tail[-1] if session.tail else f"exit status {status}"
    if session.old_python:
        return (f"{where}: python3 there is {session.old_python}; "
                "the probes need Python 3.8 or newer")
    if session.copy_error:
        errno, text = session.copy_error
        if errno == 28:  # ENOSPC
            return f"{where}: no space left in the remote temporary directory"
        return f"{where}: cannot write the probes there: {text}"
    if status == SSH_FAILED and session.remote_dir is None:
        if "Permission denied" in said or "Too many authentication failures" in said:
            return f"{where}: login refused (is the key loaded, or in ~/.ssh/config?): {said}"
        return f"{where}: cannot connect: {said}"
    if session.remote_dir is None and (status == 127 or "python3" in said):
        return f"{where}: no python3 on the remote PATH"
    if session.results_size is None:
        if any("No space left" in line for line in session.tail):
            return f"{where}: no space left in the remote temporary directory"
        if session.cut or not session.removed:  # the driver always says it cleaned up
            why = f": {session.ssh_said.rstrip('.')}" if session.ssh_said else ""
            return f"{where}: lost the connection before the probes finished{why}"
        return f"{where}: the probes wrote no results: {said}"
    if len(data) != session.results_size:
        return f"{where}: lost the connection while fetching the results"
    try:
        json.loads(data)
    except ValueError:
        return f"{where}: the results sent back are not JSON"
    return None
