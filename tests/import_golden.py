"""Expected results of `reportgen import` for every fixture under
tests/fixtures/import/, in ``tests/fixtures/import/expected/<case>.json``.

`make golden` (``python -m tests.golden``) rewrites them through
:func:`regenerate`; review the diff before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from reportgen.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
EXPECTED = FIXTURES / "expected"
# When each sysbench and hyperfine file was written: their text carries no time.
MTIMES: dict[str, int] = json.loads((FIXTURES / "mtimes.json").read_text())


@dataclass(frozen=True)
class Case:
    name: str
    tool: str
    files: tuple[str, ...]  # relative to FIXTURES
    label: str
    options: tuple[str, ...] = ()


def _numbered(stem: str, count: int, ext: str) -> tuple[str, ...]:
    return tuple(f"{stem}-{n}.{ext}" for n in range(1, count + 1))


CASES = (
    Case("fio-idle", "fio", _numbered("fio/idle", 5, "json"), "idle"),
    Case("fio-busy", "fio", _numbered("fio/busy", 5, "json"), "busy"),
    Case("fio-two-jobs", "fio", ("fio/two-jobs.json",), "two"),
    # fio's other layouts and output options (issue #22)
    Case("fio-v3.1", "fio", ("fio/v3.1-write.json",), "v31"),
    Case("fio-v2.1.11", "fio", ("fio/v2.1.11-randread.json",), "v21"),
    Case("fio-json-normal", "fio", ("fio/json-normal.out",), "normal"),
    Case("fio-status-interval", "fio", ("fio/status-interval.json",), "interval"),
    Case("fio-status-interval-normal", "fio", ("fio/status-interval-normal.out",), "both"),
    Case("fio-unified", "fio", ("fio/unified.json",), "unified"),
    Case("fio-json-plus", "fio", ("fio/json-plus.json",), "plus"),
    Case("fio-mix70", "fio", ("fio/mix70.json",), "mix70"),
    Case("fio-mix30", "fio", ("fio/mix30.json",), "mix30"),
    Case("sysbench-cpu-idle", "sysbench", _numbered("sysbench/cpu-idle", 5, "txt"), "idle"),
    Case("sysbench-cpu-busy", "sysbench", _numbered("sysbench/cpu-busy", 5, "txt"), "busy"),
    Case("sysbench-memory", "sysbench", ("sysbench/memory-write.txt",), "mem"),
    Case("sysbench-fileio", "sysbench", ("sysbench/fileio-rndrw.txt",), "disk"),
    Case("sysbench-threads", "sysbench", ("sysbench/threads.txt",), "sched",
         ("--test", "threads")),
    Case("sysbench-mutex", "sysbench", ("sysbench/mutex.txt",), "locks", ("--test", "mutex")),
    Case("hyperfine-idle", "hyperfine", _numbered("hyperfine/idle", 5, "json"), "idle",
         ("--tool-version", "1.15.0")),
    Case("hyperfine-busy", "hyperfine", _numbered("hyperfine/busy", 5, "json"), "busy",
         ("--tool-version", "1.15.0")),
    Case("hyperfine-scan", "hyperfine", ("hyperfine/scan.json",), "scan"),
    Case("hyperfine-sleep", "hyperfine", ("hyperfine/sleep.json",), "shell",
         ("--tool-version", "1.15.0")),
    Case("hyperfine-true-n", "hyperfine", ("hyperfine/true-n.json",), "noshell",
         ("--tool-version", "1.15.0", "--shell", "none")),
    Case("pts-gvno3", "pts", ("pts/gvno3/composite.xml",), "gvno3"),
    Case("pts-nogvno3", "pts", ("pts/nogvno3/composite.xml",), "nogvno3"),
)


def stage(relative: str, into: Path) -> Path:
    """A copy of a fixture with the modification time it was written at."""
    target = into / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / relative, target)
    if relative in MTIMES:
        os.utime(target, (MTIMES[relative], MTIMES[relative]))
    return target


def run_import(case: Case, scratch: Path) -> Path:
    """Import the case's fixtures (copied into ``scratch``); the file written."""
    files = [str(stage(f, scratch / "in")) for f in case.files]
    out = scratch / f"{case.name}.json"
    result = CliRunner().invoke(main, ["import", case.tool, *files, "--label", case.label,
                                       "-o", str(out), *case.options])
    assert result.exit_code == 0, result.output
    return out


def regenerate(scratch: Path) -> None:
    EXPECTED.mkdir(exist_ok=True)
    for case in CASES:
        shutil.copyfile(run_import(case, scratch / case.name), EXPECTED / f"{case.name}.json")
    print(f"rewrote {len(CASES)} expected imports in {EXPECTED}")
