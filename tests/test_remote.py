"""`reportgen probe --ssh` and `--env ... --rounds` against a real OpenSSH server.

The server (tests/sshd.py) runs on 127.0.0.1, so the "remote" temporary
directory is on this machine: every test points the remote TMPDIR at a
directory of its own and checks afterwards, failed tests included, that the
run left nothing there.
"""

from __future__ import annotations

import json
import os
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
    assert done.stderr.splitlines()[-1] == (f"reportgen probe: {server.target}: stopped after "
                                            "the time limit of 3 s (--time-limit); nothing "
                                            "written")
    assert written(tmp_path) == []
