"""The probe runner under faults: an output it cannot write is refused before
measuring, a closed progress pipe does not stop the run, and a signal while
the C helper compiles leaves no compiler files behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults import fill, tmpfs

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "probes" / "run.py"
SMALL = ["--profile", "quick", "--samples", "2", "--warmup", "0", "--scale", "0.01",
         "--no-sysbench"]


def probe_env(tmp_path: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return dict(os.environ, TMPDIR=str(tmp), REPORTGEN_PROBES_CACHE=str(tmp_path / "cache"))


def probe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUN), "--label", "x", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("fault, reason", [("read-only", "Read-only file system"),
                                           ("full", "No space left on device")])
def test_an_unwritable_output_is_refused_before_measuring(tmp_path: Path, fault: str,
                                                          reason: str) -> None:
    with tmpfs(tmp_path / "fs", size="128k", read_only=fault == "read-only") as fs:
        if fault == "full":
            fill(fs)
        before = sorted(os.listdir(fs))
        began = time.monotonic()
        done = probe(["-o", str(fs / "x.json"), *SMALL], probe_env(tmp_path))
        assert time.monotonic() - began < 10  # nothing was measured
        assert (done.returncode, done.stderr) == (
            2, f"probes/run.py: error: cannot write {fs / 'x.json'}: {reason}\n")
        assert sorted(os.listdir(fs)) == before


def test_an_output_naming_a_directory_is_refused(tmp_path: Path) -> None:
    done = probe(["-o", str(tmp_path), *SMALL], probe_env(tmp_path))
    assert (done.returncode, done.stderr) == (
        2, f"probes/run.py: error: cannot write {tmp_path}: it is a directory\n")


def test_a_closed_progress_pipe_does_not_cut_the_run_short(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    read, write = os.pipe()
    os.close(read)  # whoever read the progress (`| head`) has gone
    done = subprocess.run([sys.executable, str(RUN), "--label", "x", "-o", str(out),
                           "--only", "syscall.getpid", "cpu.integer", *SMALL],
                          env=probe_env(tmp_path), stderr=write, stdout=subprocess.DEVNULL,
                          timeout=120, check=False)
    os.close(write)
    assert done.returncode == 0
    import json

    metrics = json.loads(out.read_text())["metrics"]
    assert [(m["id"], m["status"]) for m in metrics] == [("cpu.integer", "ok"),
                                                          ("syscall.getpid", "ok")]


FAKE_CC = """#!/bin/sh
case "$1" in --version) echo "fakecc 1.0"; exit 0;; esac
echo partial > "$TMPDIR/ccFAKE.s"
sleep 60
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_compiling_leaves_no_compiler_files(tmp_path: Path, signum: int) -> None:
    cc = tmp_path / "fakecc"
    cc.write_text(FAKE_CC)
    cc.chmod(0o755)
    env = dict(probe_env(tmp_path), CC=str(cc))
    run = subprocess.Popen([sys.executable, str(RUN), "--label", "x", "-o",
                            str(tmp_path / "x.json"), "--only", "cpu.integer", *SMALL],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
    cache = tmp_path / "cache"
    for _ in range(200):  # until the compiler has written its temporary file
        if list(cache.rglob("ccFAKE.s")):
            break
        time.sleep(0.05)
    else:
        run.kill()
        pytest.fail("the fake compiler never ran")
    run.send_signal(signum)
    _out, stderr = run.communicate(timeout=60)
    assert run.returncode == 128 + signum, stderr
    assert list((tmp_path / "tmp").iterdir()) == []
    assert [p.name for p in cache.rglob("*")
            if p.name.startswith((".cc-tmp-", ".probe_helper-"))] == []
    alive = subprocess.run(["pgrep", "-f", str(cc)], capture_output=True, text=True,
                           check=False)
    assert alive.stdout == ""
