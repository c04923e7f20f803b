"""kill -9 a PDF build at evenly spread points and check what it left.

Run it as ``.venv/bin/python -m tests.kill9_pdf_build [POINTS]`` (default 10);
``tests/test_kill9.py`` runs it at 3 points.  For each point the script starts
``reportgen build`` of a two-report site (html, txt, pdf, archive inside the
output) in a session of its own, kills the build's main process with SIGKILL
after a fraction of a full build's time, and checks:

* the output is whole: byte-identical (the archive aside) to the previous
  build, or to what the next build leaves when it finds nothing to change;
* every archive folder passes ``sha256sum -c SHA256SUMS``;
* 5 s after the kill no process of the build's session is alive (workers die
  with their parent);
* after the next build no ``.output.new-*`` staging dir is left.

``python -m tests.kill9_pdf_build 10`` on 2026-11-27 at 11:10 UTC (2 vCPUs
shared with other builds and test runs): all 10 points ``ok``, 1 min 58 s.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "fixtures" / "errors" / "_base"
SITE = "title: T\nreports: [reports/*]\nformats: [html, txt, pdf]\n"


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


def not_archive(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in tree.items() if not k.startswith("archive/")}


def session_alive(sid: int) -> list[int]:
    """Pids whose session is ``sid`` (Linux /proc)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def start(project: Path) -> subprocess.Popen[bytes]:
    tmp = project.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    with (project.parent / "build.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "reportgen", "build"], cwd=project,
                                env=env, stdout=log, stderr=log, start_new_session=True)


def make_project(where: Path) -> Path:
    project = where / "project"
    shutil.copytree(BASE, project)
    shutil.copytree(project / "reports" / "r", project / "reports" / "r1")
    (project / "site.yml").write_text(SITE)
    return project


def edit(project: Path, n: int) -> None:
    for slug in ("r", "r1"):
        path = project / "reports" / slug / "report.yml"
        text = path.read_text().split("\n# edit")[0]
        path.write_text(f"{text}\n# edit {n}\n".replace("Done.", f"Done {n}."))


def check_point(project: Path, delay: float, n: int) -> list[str]:
    """Kill a build after ``delay`` seconds; the problems found (none: [])."""
    problems = []
    before = files(project / "output")
    edit(project, n)
    build = start(project)
    time.sleep(delay)
    finished = build.poll() is not None
    if not finished:
        os.kill(build.pid, signal.SIGKILL)
    build.wait()
    time.sleep(5)
    alive = session_alive(build.pid)
    if alive:
        problems.append(f"processes alive 5 s after the kill: {alive}")
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
    after = files(project / "output")
    for folder in sorted((project / "output" / "archive").glob("*")):
        check = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder,
                               capture_output=True, text=True, check=False)
        if check.returncode != 0:
            problems.append(f"sha256sum -c failed in {folder.name}: {check.stdout}{check.stderr}")
    done = start(project)
    if done.wait(timeout=300) != 0:
        problems.append("the next build failed")
    # whole: the previous output, or the one a finished build of this input
    # makes (the archive aside: snapshots may be added before the swap)
    if not_archive(after) not in (not_archive(before), not_archive(files(project / "output"))):
        problems.append("output is neither the previous build nor a whole new one")
    stale = sorted(p.name for p in project.iterdir() if p.name.startswith(".output.new-"))
    if stale:
        problems.append(f"staging dirs left after the next build: {stale}")
    scratch = sorted(p.name for p in (project.parent / "tmp").glob("*reportgen-pdf-*"))
    if scratch:
        problems.append(f"PDF renderers' folders left after the next build: {scratch}")
    return problems


def run(points: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        began = time.monotonic()
        if start(project).wait(timeout=300) != 0:
            print("the first build failed")
            return 1
        full = time.monotonic() - began
        failed = 0
        for n in range(1, points + 1):
            delay = full * n / (points + 1)
            problems = check_point(project, delay, n)
            failed += bool(problems)
            if problems:
                print((project.parent / "build.log").read_text(errors="replace"))
            print(f"kill -9 after {delay:.2f} s of {full:.1f} s: "
                  f"{'; '.join(problems) if problems else 'ok'}", flush=True)
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
