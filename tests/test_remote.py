"""`reportgen probe --ssh` and `--env ... --rounds` against a real OpenSSH server.

The server (tests/sshd.py) runs on 127.0.0.1, so the "remote" temporary
directory is on this machine: every test points the remote TMPDIR at a
directory of its own and checks afterwards, failed tests included, that the
run left nothing there.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reportgen.measure import remote
from tests import sshd

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "reportgen" / "read" / "schemas" / "results.schema.json").read_text())
QUICK = ["--profile", "quick", "--only", "syscall.getpid"]

pytestmark = pytest.mark.skipif(sshd.missing() is not None, reason=str(sshd.missing()))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sshd.Server]:
    with sshd.server(tmp_path_factory.mktemp("sshd")) as served:
        yield served


@pytest.fixture
def remote_tmp(tmp_path: Path) -> Iterator[Path]:
    """The remote side's TMPDIR; it must be empty again after the test."""
    where = tmp_path / "remote-tmp"
    where.mkdir()
    yield where
    assert sorted(p.name for p in where.iterdir()) == []


def probe(server: sshd.Server, remote_tmp: Path, cwd: Path, *args: str, key: str = "user",
          **popen: Any) -> subprocess.CompletedProcess[str]:
    command = server.command(key, "-o", f"SetEnv=TMPDIR={remote_tmp}")
    env = dict(os.environ, REPORTGEN_SSH_COMMAND=command)
    return subprocess.run([sys.executable, "-m", "reportgen", "probe", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False, **popen)


def valid(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    return data


def written(where: Path) -> list[str]:
    """What a run left in its working directory (remote-tmp is the test's own)."""
    return sorted(p.name for p in where.iterdir() if p.name != "remote-tmp")


def shape(data: dict[str, Any]) -> tuple[Any, ...]:
    """What a results file holds, without the measured values."""
    return (sorted(data), sorted(data["environment"]), sorted(data["system"]),
            [(m["id"], sorted(m), m["status"], len(m["samples"])) for m in data["metrics"]])


def test_remote_run_gives_the_same_shape_as_a_local_run(server: sshd.Server, remote_tmp: Path,
                                                        tmp_path: Path) -> None:
    done = probe(server, remote_tmp, tmp_path, "--ssh", server.target, "--label", "guest",
                 "-o", "guest.json", *QUICK)
    assert done.returncode == 0, done.stderr
    assert "[1/1] syscall.getpid  ok" in done.stderr  # progress streamed
    # then, when the profile takes fewer rounds than a verdict needs, one note
    after = done.stderr.split("\nwrote guest.json\n")[1].splitlines()
    assert len(after) <= 1 and all(line.startswith("note: verdicts need ") for line in after)
    local = probe(server, remote_tmp, tmp_path, "--label", "native", "-o", "native.json", *QUICK)
    assert local.returncode == 0, local.stderr
    guest, native = valid(tmp_path / "guest.json"), valid(tmp_path / "native.json")
    assert shape(guest) == shape(native)
    assert guest["environment"]["label"] == "guest"
    assert "hostname" not in guest


def test_remote_host_name_only_with_the_flag(server: sshd.Server, remote_tmp: Path,
                                             tmp_path: Path) -> None:
    done = probe(server, remote_tmp, tmp_path, "--ssh", server.target, "--label", "guest",
                 "--hostname", *QUICK)
    assert done.returncode == 0, done.stderr
    assert valid(tmp_path / "guest.json")["hostname"] == os.uname().nodename


def test_login_greeting_on_stdout_is_not_part_of_the_results(server: sshd.Server,
                                                             remote_tmp: Path,
                                                             tmp_path: Path) -> None:
    done = probe(server, remote_tmp, tmp_path, "--ssh", server.target, "--label", "guest",
                 *QUICK, key="noisy")
    assert done.returncode == 0, done.stderr
    assert valid(tmp_path / "guest.json")["environment"]["label"] == "guest"


def test_alternating_rounds_write_one_file_per_environment(server: sshd.Server,
                                                           remote_tmp: Path,
                                                           tmp_path: Path) -> None:
    done = probe(server, remote_tmp, tmp_path, "--env", "native=local",
                 "--env", f"guest=ssh:{server.target}", "--rounds", "2", "-o", "results",
                 *QUICK)
    assert done.returncode == 0, done.stderr
    order = [line for line in done.stderr.splitlines() if line.startswith("round ")]
    assert order == ["round 1/2: native (this machine)", f"round 1/2: guest ({server.target})",
                     "round 2/2: native (this machine)", f"round 2/2: guest ({server.target})"]
    # the rounds' scratch files, here or there, are never announced as written
    assert ".reportgen-rounds-" not in done.stderr
    assert "round 2/2 done in " in done.stderr and "round 1/1" not in done.stderr
    # each round's run is one round, and says so in the singular
    finished = [line for line in done.stderr.splitlines()
                if line.startswith("[1/1] syscall.getpid  ok  median ")]
    assert len(finished) == 4 and all(" in 1 round  " in line for line in finished), finished
    assert done.stderr.splitlines()[-3:-1] == ["wrote results/native.json (2 rounds)",
                                               "wrote results/guest.json (2 rounds)"]
    (note,) = [line for line in done.stderr.splitlines() if "verdicts need" in line]
    assert note.endswith(" --rounds 5") and note == done.stderr.splitlines()[-1]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["guest.json",
                                                                        "native.json"]
    native, guest = (valid(tmp_path / "results" / f"{n}.json") for n in ("native", "guest"))
    assert [r["round"] for r in native["rounds"]] == [1, 2] == [r["round"] for r in guest["rounds"]]
    starts = [native["rounds"][0], guest["rounds"][0], native["rounds"][1], guest["rounds"][1]]
    times = [r["started_at"] for r in starts]
    assert times == sorted(times)  # host, guest, host, guest
    for doc in (native, guest):
        (metric,) = doc["metrics"]
        per_round = metric["sample_rounds"].count(1)
        assert per_round > 0
        assert metric["sample_rounds"] == [1] * per_round + [2] * per_round


def test_wrong_port(server: sshd.Server, remote_tmp: Path, tmp_path: Path) -> None:
    port = sshd.free_port()
    done = probe(server, remote_tmp, tmp_path, "--ssh", f"{server.user}@127.0.0.1:{port}",
                 "--label", "guest", *QUICK)
    assert done.returncode == 2
    assert done.stderr == (f"reportgen probe: {server.user}@127.0.0.1:{port}: cannot connect: "
                           f"ssh: connect to host 127.0.0.1 port {port}: Connection refused\n")
    assert written(tmp_path) == []


def test_refused_key(server: sshd.Server, remote_tmp: Path, tmp_path: Path) -> None:
    done = probe(server, remote_tmp, tmp_path, "--ssh", server.target, "--label", "guest",
                 *QUICK, key="other")
    assert done.returncode == 2
    assert done.stderr.startswith(f"reportgen probe: {server.target}: login refused (is the "
                                  "key loaded, or in ~/.ssh/config?): ")
    assert "Permission denied (publickey)" in done.stderr
    assert done.stderr.count("\n") == 1
    assert written(tmp_path) == []


@pytest.mark.parametrize(("key", "message"), [
    ("nopython", "no python3 on the remote PATH"),
    ("oldpython", "python3 there is 3.6.15; the probes need Python 3.8 or newer"),
])
def test_remote_python(server: sshd.Server, remote_tmp: Path, tmp_path: Path, key: str,
                       message: str) -> None:
    done = probe(server, remote_tmp, tmp_path, "--ssh", server.target, "--label", "guest",
                 *QUICK, key=key)
    assert done.returncode == 2
    assert done.stderr == f"reportgen probe: {server.target}: {message}\n"
    assert written(tmp_path) == []


@pytest.fixture
def full_disk(remote_tmp: Path) -> Iterator[Path]:
    """A 16 KiB tmpfs as the remote TMPDIR: the bundle (about 23 KiB) does not fit."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill up needs root")
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(remote_tmp)],
                           capture_output=True, text=True, check=False)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
    yield remote_tmp
    remaining = sorted(p.name for p in remote_tmp.iterdir())
    subprocess.run(["umount", str(remote_tmp)], check=True)
    assert remaining == []


def test_remote_disk_full(server: sshd.Server, full_disk: Path, tmp_path: Path) -> None:
    done = probe(server, full_disk, tmp_path, "--ssh", server.target, "--label", "guest",
                 *QUICK)
    assert done.returncode == 2
    assert done.stderr == (f"reportgen probe: {server.target}: no space left in the remote "
                           "temporary directory\n")
    assert written(tmp_path) == []


def _started(proc: subprocess.Popen[str], remote_tmp: Path) -> None:
    """Wait until the probes run on the remote side."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if "sample 1/" in line:
            assert list(remote_tmp.glob("reportgen-remote-*"))
            return
    pytest.fail("the probes never started")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_removes_the_remote_directory(server: sshd.Server, remote_tmp: Path,
                                             tmp_path: Path, signum: int) -> None:
    command = server.command("user", "-o", f"SetEnv=TMPDIR={remote_tmp}")
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "probe", "--ssh", server.target,
                             "--ssh-command", command, "--label", "guest", *QUICK,
                             "--samples", "1000"], cwd=tmp_path, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, REPORTGEN_SSH_COMMAND="false"))
    try:
        _started(proc, remote_tmp)
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 128 + signum
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    name = signal.Signals(signum).name
    assert proc.stderr is not None
    assert proc.stderr.read().endswith(f"reportgen probe: {server.target}: stopped by {name}; "
                                       "removed the remote temporary directory, wrote nothing\n")
    assert written(tmp_path) == []


def test_dropped_connection(server: sshd.Server, remote_tmp: Path, tmp_path: Path) -> None:
    """Killing the ssh client is what a dropped link looks like to both ends."""
    command = server.command("user", "-o", f"SetEnv=TMPDIR={remote_tmp}")
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "probe", "--ssh", server.target,
                             "--ssh-command", command, "--label", "guest", *QUICK,
                             "--samples", "1000"], cwd=tmp_path, stderr=subprocess.PIPE,
                            text=True)
    try:
        _started(proc, remote_tmp)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        (ssh,) = [int(pid) for pid in children
                  if Path(f"/proc/{pid}/comm").read_text().strip() == "ssh"]
        os.kill(ssh, signal.SIGKILL)
        assert proc.wait(timeout=60) == 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    assert proc.stderr.read().splitlines()[-1].startswith(
        f"reportgen probe: {server.target}: lost the connection")
    assert written(tmp_path) == []
    deadline = time.monotonic() + 30  # the remote side notices on its own
    while list(remote_tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)


def test_ssh_command_option_wins_over_the_environment(server: sshd.Server, remote_tmp: Path,
                                                      tmp_path: Path) -> None:
    command = server.command("user", "-o", f"SetEnv=TMPDIR={remote_tmp}")
    done = subprocess.run([sys.executable, "-m", "reportgen", "probe", "--ssh", server.target,
                           "--ssh-command", command, "--label", "guest", *QUICK],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, REPORTGEN_SSH_COMMAND=shlex.join(["false"])))
    assert done.returncode == 0, done.stderr
    assert valid(tmp_path / "guest.json")["environment"]["label"] == "guest"


def test_signal_during_rounds_writes_nothing(server: sshd.Server, remote_tmp: Path,
                                             tmp_path: Path) -> None:
    """SIGTERM in the middle of a local round: its probes clean up, no file is written."""
    command = server.command("user", "-o", f"SetEnv=TMPDIR={remote_tmp}")
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "probe", "--env", "native=local",
                             "--env", f"guest=ssh:{server.target}", "--rounds", "2",
                             "-o", "results", *QUICK, "--samples", "1000"], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, TMPDIR=str(remote_tmp),
                                     REPORTGEN_SSH_COMMAND=command))
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "sample 1/" in line:
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr.read().endswith("reportgen probe: stopped by SIGTERM; wrote nothing\n")
    assert list((tmp_path / "results").iterdir()) == []


def test_time_limit(server: sshd.Server, remote_tmp: Path, tmp_path: Path) -> None:
    done = probe(server, remote_tmp, tmp_path, "--ssh", server.target, "--label", "guest",
                 "--time-limit", "3", *QUICK, "--samples", "1000")
    assert done.returncode == 2
    stopped = (f"reportgen probe: {server.target}: stopped after the time limit of 3 s "
               "(--time-limit); ")
    # "wrote nothing" alone when the limit came before the driver named its directory
    assert done.stderr.splitlines()[-1] in (
        stopped + "removed the remote temporary directory, wrote nothing",
        stopped + "wrote nothing")
    assert written(tmp_path) == []


def test_bounds_leave_what_the_user_set_alone(server: sshd.Server, tmp_path: Path) -> None:
    """reportgen's ConnectTimeout and keep-alive apply unless the ssh command
    or the ssh config sets its own (ssh -G tells, for the config)."""
    target = remote.Target.parse(server.target)
    ours = ["-o", "ConnectTimeout=30", "-o", "ServerAliveInterval=15", "-o",
            "ServerAliveCountMax=4"]
    assert remote.bounds(shlex.split(server.command()), target, 30) == ours
    # no ssh that knows -G: ours go after the user's words, so theirs would win
    assert remote.bounds(["false"], target, 30) == ours
    argv = remote.ssh_argv(["false", "-o", "ConnectTimeout=3"], target, "true")
    assert argv[:3] == ["false", "-o", "ConnectTimeout=3"]
    assert argv[-5:] == ["-p", str(server.port), "--", f"{server.user}@127.0.0.1", "true"]
    config = tmp_path / "ssh_config"
    config.write_text(server.config.read_text() + "    ServerAliveInterval 7\n")
    assert remote.bounds(["ssh", "-F", str(config)], target, 10) == ["-o", "ConnectTimeout=10"]
    given = ["ssh", "-F", "/dev/null", "-o", "ConnectTimeout=5", "-o", "ServerAliveCountMax=9"]
    assert remote.bounds(given, target, 30) == ["-o", "ServerAliveInterval=15"]


def _under(pid: int) -> list[int]:
    """The processes under ``pid`` (children of every thread), nearest first."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop(0)
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(word) for word in (task / "children").read_text().split()]
            except OSError:  # gone meanwhile
                continue
            found += children
            todo += children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:  # ended meanwhile
        pass


class Freezer:
    """SIGSTOP to an sshd's processes, as a hypervisor's process stopped; and
    afterwards SIGCONT, and SIGKILL for whatever has not ended 30 s later."""

    def __init__(self) -> None:
        self.stopped: list[int] = []

    def stop(self, listener: int, *, listener_too: bool) -> list[int]:
        """Stop the sessions under ``listener`` (and it): what serves the run."""
        if listener_too:
            os.kill(listener, signal.SIGSTOP)
            self.stopped.append(listener)
        while new := [pid for pid in _under(listener) if pid not in self.stopped]:
            for pid in new:  # a process may fork until it is stopped: look again
                _signal(pid, signal.SIGSTOP)
                self.stopped.append(pid)
        return self.stopped

    def resume(self, listener: int) -> list[int]:
        """SIGCONT to all; the sessions' processes that did not end within 30 s
        (then killed)."""
        for pid in self.stopped:
            _signal(pid, signal.SIGCONT)
        sessions = [pid for pid in self.stopped if pid != listener]
        deadline = time.monotonic() + 30
        while any(map(_alive, sessions)) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in sessions if _alive(pid)]
        for pid in left:
            _signal(pid, signal.SIGKILL)
        self.stopped = []
        return left


@pytest.fixture
def freezer(server: sshd.Server) -> Iterator[Freezer]:
    frozen = Freezer()
    try:
        yield frozen
    finally:
        frozen.resume(server.pid)  # nothing stays stopped, whatever the test did


def _after(proc: subprocess.Popen[str], timeout: float) -> list[str]:
    """What the run still printed on stderr, once it ended."""
    _, rest = proc.communicate(timeout=timeout)
    lines: list[str] = rest.splitlines()
    return lines


def _only_progress(lines: list[str]) -> None:
    """Nothing but the probes' progress lines: no traceback, none of ssh's messages."""
    assert all(re.match(r"\[1/1\] syscall\.getpid  ", line) for line in lines), lines


def test_frozen_machine_ends_at_the_time_limit(server: sshd.Server, remote_tmp: Path,
                                               tmp_path: Path, freezer: Freezer) -> None:
    """A guest whose hypervisor got SIGSTOP during a round: the whole remote end
    (sshd and everything under it) stops.  The time limit ends the round, the
    cleanup cannot connect either, and the one final line says what is left
    and how to remove it; that command then works once the machine is back."""
    command = server.command("user", "-o", f"SetEnv=TMPDIR={remote_tmp}")
    limit = 30
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "probe",
                             "--env", f"guest=ssh:{server.target}", "--env", "native=local",
                             "--rounds", "1", "-o", "results", "--time-limit", str(limit),
                             *QUICK, "--samples", "100000"], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, REPORTGEN_SSH_COMMAND=command))
    try:
        _started(proc, remote_tmp)
        (left,) = remote_tmp.glob("reportgen-remote-*")
        freezer.stop(server.pid, listener_too=True)
        lines = _after(proc, limit + 60)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2
    assert took < limit + 30, took
    by_hand = shlex.join([*shlex.split(command), "-p", str(server.port),
                          f"{server.user}@127.0.0.1", f"rm -rf {left}"])
    assert re.fullmatch(re.escape(f"reportgen probe: {server.target}: stopped after the time "
                                  f"limit of {limit} s (--time-limit); wrote nothing, and could "
                                  f"not remove {left} there (")
                        + r"[^()]+"  # ssh's reason, or "no answer within 15 s"
                        + re.escape(f"); remove it with: {by_hand}"), lines[-1]), lines[-1]
    _only_progress(lines[:-1])
    assert left.exists() and list((tmp_path / "results").iterdir()) == []
    assert freezer.resume(server.pid) == []  # the driver ends once it finds the link gone
    removal = subprocess.run(shlex.split(by_hand), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=60, check=False)
    assert removal.returncode == 0, removal.stderr
    assert not left.exists()


def test_keep_alive_ends_a_run_whose_machine_stopped_answering(
        server: sshd.Server, remote_tmp: Path, tmp_path: Path, freezer: Freezer) -> None:
    """No --time-limit (six hours by default): ssh's keep-alive finds the
    stopped session dead.  The keep-alive options in the user's ssh command
    are used instead of reportgen's 15 s x 4; sshd itself still answers, so
    the second ssh call removes the directory while the driver is stopped."""
    command = server.command("user", "-o", f"SetEnv=TMPDIR={remote_tmp}",
                             "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2",
                             "-o", "LogLevel=INFO")
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "probe", "--ssh", server.target,
                             "--label", "guest", *QUICK, "--samples", "100000"], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, REPORTGEN_SSH_COMMAND=command))
    try:
        _started(proc, remote_tmp)
        (left,) = remote_tmp.glob("reportgen-remote-*")
        stopped = freezer.stop(server.pid, listener_too=False)
        assert len(stopped) >= 3  # sshd's two for the session, the driver, the probes
        lines = _after(proc, 120)  # with a 6 h limit, only the keep-alive ends it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2
    assert lines[-1] == (f"reportgen probe: {server.target}: lost the connection before the "
                         "probes finished: Timeout, server 127.0.0.1 not responding; removed "
                         "the remote temporary directory, wrote nothing")
    _only_progress(lines[:-1])
    assert not left.exists()  # removed by the second call, the driver still stopped
    assert written(tmp_path) == []
    assert freezer.resume(server.pid) == []
