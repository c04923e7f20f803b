"""Golden files: expected outputs checked in under tests/.

`make golden` (``python -m tests.golden``) rewrites them all from the current
code; review the diff before committing it.

* ``tests/golden/bhyve-smp/`` - the example report as text, Markdown, HTML and analysis.json;
* ``tests/golden/four-env/`` - the four-environment fixture (``tests/fixtures/four-env``,
  built from inside its directory) as text, Markdown, analysis.json and one chart;
* ``tests/fixtures/errors/<case>/expected.txt`` - what ``reportgen build``
  prints for each bad-input case (the case's files laid over ``_base``);
* ``tests/fixtures/import/expected/`` - what ``reportgen import`` writes from
  each tool's fixtures (see ``tests/import_golden.py``).
* ``tests/fixtures/checks/<case>/expected.txt`` - the warnings ``reportgen
  build --verbose`` prints for each case of the checks stage (laid over the
  same ``_base``), every one; ``summary.txt`` - those ``reportgen build``
  prints, one line per kind of warning, in the order printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from reportgen.cli import main
from tests import import_golden

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "bhyve-smp"
FOUR_ENV = ROOT / "tests" / "fixtures" / "four-env"
GOLDEN_FOUR_ENV = ROOT / "tests" / "golden" / "four-env"
ERRORS = ROOT / "tests" / "fixtures" / "errors"
CHECKS = ROOT / "tests" / "fixtures" / "checks"
GOLDEN_FILES = ("report.txt", "report.md", "index.html", "analysis.json", "charts/overview.svg",
                "charts/s5.svg")
# Section 6 of the four-env report: one inconclusive, one moderate and one
# ~Nx result side by side.
FOUR_ENV_FILES = ("report.txt", "report.md", "analysis.json", "charts/s6.svg")


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def build_example(output: Path, formats: str = "html,txt,md") -> Path:
    """Build the example site into ``output``; returns the report's dir."""
    with cwd(ROOT):
        result = CliRunner().invoke(main, ["build", "-o", str(output), "--formats", formats])
    assert result.exit_code == 0, result.output
    return output / "bhyve-smp"


def build_four_env(output: Path) -> Path:
    """Build the four-environment fixture's site into ``output`` from inside
    its directory, as `reportgen build --formats html,txt,md -o <output>`
    there would; returns the report's dir."""
    with cwd(FOUR_ENV):
        result = CliRunner().invoke(main, ["build", "--formats", "html,txt,md",
                                           "-o", str(output)])
    assert result.exit_code == 0, result.output
    return output / "four-env"


def error_cases() -> list[Path]:
    return sorted(p for p in ERRORS.iterdir() if p.is_dir() and p.name != "_base")


def lay_out(case: Path, project: Path) -> Path:
    """The base project with the case's files laid over it."""
    shutil.copytree(ERRORS / "_base", project)
    for source in case.rglob("*"):
        if source.is_file() and source.name != "expected.txt":
            target = project / source.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return project


def run_build(project: Path, *args: str) -> tuple[int, str]:
    """Exit status and stderr of `reportgen build ARGS` run in ``project``."""
    with cwd(project):
        result = CliRunner().invoke(main, ["build", *args])
    return result.exit_code, result.stderr


def warning_lines(stderr: str) -> str:
    """The warnings of a build's stderr, in the order ``--strict`` prints them
    as errors (by file, line and column)."""
    def key(line: str) -> tuple[str, int, int, str]:
        path, line_no, col, rest = line.split(":", 3)
        return path, int(line_no), int(col), rest

    return "".join(f"{line}\n" for line in sorted(
        (line for line in stderr.splitlines() if ": warning: " in line), key=key))


def summary_lines(stderr: str) -> str:
    """The warning lines of a build's stderr, in the order printed."""
    return "".join(f"{line}\n" for line in stderr.splitlines() if ": warning: " in line)


def regenerate(scratch: Path) -> None:
    report = build_example(scratch / "site")
    for name in GOLDEN_FILES:
        target = GOLDEN / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report / name, target)
    four_env = build_four_env(scratch / "four-env")
    for name in FOUR_ENV_FILES:
        target = GOLDEN_FOUR_ENV / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(four_env / name, target)
    for case in error_cases():
        _status, stderr = run_build(lay_out(case, scratch / case.name))
        (case / "expected.txt").write_text(stderr)
    for case in sorted(p for p in CHECKS.iterdir() if p.is_dir()):
        project = lay_out(case, scratch / "checks" / case.name)
        _status, stderr = run_build(project, "--verbose")
        (case / "expected.txt").write_text(warning_lines(stderr))
        shutil.rmtree(project / "output")
        _status, stderr = run_build(project)
        (case / "summary.txt").write_text(summary_lines(stderr))
    print(f"rewrote {GOLDEN.relative_to(ROOT)}, {GOLDEN_FOUR_ENV.relative_to(ROOT)} and "
          f"{len(error_cases())} error expectations")
    import_golden.regenerate(scratch / "import")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        regenerate(Path(tmp))
