"""How the `reportgen` command ends its process (reportgen.cli.end): with
the status sys.exit would give, its output flushed and atexit handlers run,
whether or not Python's interpreter finalization is skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import atexit, sys, threading
from reportgen import cli
atexit.register(lambda: open(sys.argv[1], "w").write("ran"))
if sys.argv[3] == "thread":  # alive when the command ends: the normal exit waits
    threading.Thread(target=lambda: __import__("time").sleep(0.3)).start()
sys.stdout.write("unflushed")
cli.end(eval(sys.argv[2]))
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
@pytest.mark.parametrize(("code", "status", "stderr"), [
    ("None", 0, ""), ("0", 0, ""), ("2", 2, ""), ("130", 130, ""),
    ("'reportgen: no'", 1, "reportgen: no\n")])
def test_end_exits_as_sys_exit_would(tmp_path: Path, code: str, status: int, stderr: str,
                                     thread: str) -> None:
    mark = tmp_path / "atexit"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(mark), code, thread],
                          check=False, capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stdout, done.stderr) == (status, "unflushed", stderr)
    assert mark.read_text() == "ran"


def test_the_command_prints_its_version_and_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "reportgen", "--version"],
                          check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("reportgen, version ")


def test_under_a_profiler_the_command_exits_normally(tmp_path: Path) -> None:
    """cProfile writes its figures once the command has returned."""
    figures = tmp_path / "profile.out"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(figures), "-m",
                           "reportgen", "--version"], check=False, capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert figures.stat().st_size > 0


GC_SCRIPT = """
import gc, os, sys
import reportgen.site.build as stage

def build(*args, **kwargs):
    child = os.fork()
    if child == 0:  # as the PDF renderer is forked
        os._exit(0 if gc.isenabled() else 3)
    print(gc.isenabled(), os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))

stage.build = build
from reportgen import cli
sys.argv = ["reportgen", "build"]
cli.run()
"""


def test_the_build_command_turns_the_collector_off_and_a_forked_child_on() -> None:
    done = subprocess.run([sys.executable, "-c", GC_SCRIPT], check=False, capture_output=True,
                          text=True, cwd=ROOT)
    assert (done.returncode, done.stdout, done.stderr) == (0, "False 0\n", "")
