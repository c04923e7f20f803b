"""SIGINT, SIGTERM and SIGHUP stop every command the same way: one line naming
the signal, exit status 128 + its number, and nothing half-written left.

Each command runs in a process of its own and is signalled once its stderr
shows that it reached a known step (tests/signal_wrapper.py holds it there
when the step is too quick to catch), so no test guesses at timing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_data_loss import tree

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "tests" / "signal_wrapper.py"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
STATUSES = [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]


def stopped(signum: int) -> str:
    return f"reportgen: stopped by signal {signum} ({signal.Signals(signum).name})\n"


def signalled(argv: list[str], cwd: Path, marker: str, signum: int,
              env: dict[str, str] = ENV, check: Callable[[], None] = lambda: None
              ) -> tuple[int, str]:
    """Run ``argv`` and send it ``signum`` once a line of its stderr starts with
    ``marker`` (after calling ``check``); its exit status and whole stderr."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(300, proc.kill)
    watchdog.start()
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.startswith(marker):
                check()
                proc.send_signal(signum)
                break
        lines.append(proc.stderr.read())
        return proc.wait(), "".join(lines)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def example_site(tmp_path: Path) -> Path:
    project = tmp_path / "site"
    project.mkdir()
    shutil.copy(ROOT / "site.yml", project)
    shutil.copytree(ROOT / "reports", project / "reports")
    # site.yml also lists the example series
    shutil.copytree(ROOT / "examples" / "contention", project / "examples" / "contention")
    return project


@pytest.mark.parametrize(("signum", "status"), STATUSES)
def test_import_stopped_while_writing_keeps_the_old_file(tmp_path: Path, signum: int,
                                                         status: int) -> None:
    shutil.copy(ROOT / "tests" / "fixtures" / "import" / "fio" / "idle-1.json", tmp_path)
    (tmp_path / "out.json").write_text("previous\n")

    def mid_write() -> None:
        assert [p.suffix for p in tmp_path.glob(".out.json.*")] == [".tmp"]

    code, stderr = signalled([sys.executable, str(WRAPPER), "os:replace", "--", "import", "fio",
                              "idle-1.json", "--label", "x", "-o", "out.json"],
                             tmp_path, "waiting in os:replace", signum, check=mid_write)
    assert (code, stderr) == (status, "waiting in os:replace\n" + stopped(signum))
    assert sorted(os.listdir(tmp_path)) == ["idle-1.json", "out.json"]
    assert (tmp_path / "out.json").read_text() == "previous\n"


def test_build_stopped_before_the_swap_keeps_the_output_and_no_staging_dir(
        tmp_path: Path) -> None:
    project = example_site(tmp_path)
    build = ["build", "--formats", "txt"]
    first = subprocess.run([sys.executable, "-m", "reportgen", *build], cwd=project, env=ENV,
                           capture_output=True, text=True, timeout=300, check=False)
    assert first.returncode == 0, first.stderr
    before = tree(project / "output")
    with (project / "reports" / "bhyve-smp" / "report.yml").open("a") as report:
        report.write("# edited: the next build renders this report again\n")
    code, stderr = signalled([sys.executable, str(WRAPPER), "reportgen.site.output:publish",
                              "--", *build], project, "waiting in", signal.SIGTERM)
    assert code == 143, stderr
    assert stderr.endswith("waiting in reportgen.site.output:publish\n"
                           + stopped(signal.SIGTERM))
    assert tree(project / "output") == before
    assert [p.name for p in project.iterdir() if p.name.startswith(".output.new-")] == []


def test_serve_stopped_by_sigterm_removes_its_temporary_output(tmp_path: Path) -> None:
    project = example_site(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code, stderr = signalled([sys.executable, "-m", "reportgen", "serve", "--port", "0",
                              "--formats", "txt"], project, "serving ", signal.SIGTERM,
                             env={**ENV, "TMPDIR": str(tmp)})
    assert code == 143, stderr
    assert stderr.endswith("stopping\n" + stopped(signal.SIGTERM))
    assert list(tmp.iterdir()) == []  # its output, and the lock beside it


RENDERER_SIGNALLED = """
import os, signal, sys
from reportgen.core.signals import stop_on_signals
from reportgen.render.pdf_process import Renderer
signum = int(sys.argv[1])
with stop_on_signals():
    renderer = Renderer()
    os.kill(renderer.process.pid, signum)  # while it loads WeasyPrint
    renderer.process.join(float(sys.argv[2]))
    print(renderer.process.exitcode)
    renderer.close()
"""


@pytest.mark.parametrize(("signum", "wait", "exitcode"), [(signal.SIGTERM, 60, -signal.SIGTERM),
                                                          (signal.SIGINT, 3, None)])
def test_a_stop_signal_to_the_pdf_renderer_leaves_it_to_the_build(
        signum: int, wait: int, exitcode: int | None) -> None:
    # SIGTERM (multiprocessing ends daemon children with it) ends the renderer
    # quietly; SIGINT (Ctrl-C reaches the whole group) is the build's to act on.
    # The renderer inherits the build's handler, which would print a traceback.
    done = subprocess.run([sys.executable, "-c", RENDERER_SIGNALLED, str(int(signum)), str(wait)],
                          env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert done.stderr == ""
    assert done.returncode == 0
    # a renderer that ignores SIGINT is still there, loading or waiting for its job
    assert done.stdout == f"{exitcode}\n"
