"""hyperfine exports as people have them (issue #22): failed commands kept under
-i, runs recorded as 0 s, long commands, older export layouts.  Expected
figures are read from the fixture by hand (quoted beside them) or worked out
from its "times" by the test itself, never taken from the importer."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reportgen.cli import main
from reportgen.importers.common import slug
from tests.import_golden import FIXTURES, stage

ADVICE = "measure so short a command without a shell (hyperfine -N) or make it longer"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", "hyperfine", *(str(a) for a in args)],
                              catch_exceptions=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def imported(here: Path, relative: str, *options: str) -> tuple[list[dict[str, Any]], str]:
    """The metrics `reportgen import hyperfine` writes for a fixture, and what it printed."""
    stage(relative, here)
    done = run(relative, "--label", "x", "-o", "out.json", *options)
    assert done.exit_code == 0, done.output
    return json.loads((here / "out.json").read_text())["metrics"], done.output


def results(relative: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((FIXTURES / relative).read_text())["results"]
    return found


# --- failed commands (hyperfine -i) ---------------------------------------------------

def test_exit_code_makes_the_metric_failed(here: Path) -> None:
    """hyperfine -i --runs 10 'sleep 0.01; exit 3': "exit_codes" is ten 3s."""
    (found,), printed = imported(here, "hyperfine/exit3.json")
    assert printed == (
        "out.json: warning: metric 'hyperfine.sleep_0_01_exit_3.wall' failed: the command "
        "failed in 10 of 10 runs (exit code 3): give --keep-failed-runs to import such runs "
        "anyway\nwrote out.json: 1 metric(s), 1 round(s), label 'x'\n")
    assert (found["id"], found["status"], found["samples"], found["error"]) == (
        "hyperfine.sleep_0_01_exit_3.wall", "failed", [],
        ("the command failed in 10 of 10 runs (exit code 3): give --keep-failed-runs to "
        "import such runs anyway"))


def test_failed_runs_kept_when_asked(here: Path) -> None:
    (found,), printed = imported(here, "hyperfine/exit3.json", "--keep-failed-runs")
    assert printed.splitlines()[0] == (
        "hyperfine/exit3.json:4:1: warning: 'sleep 0.01; exit 3': kept 10 of 10 runs (exit "
        "code 3) in which the command failed (--keep-failed-runs)")
    # "times" starts 0.0096085674, 0.0096470954 and ends 0.0098432074: all ten kept
    assert found["status"] == "ok" and len(found["samples"]) == 10
    assert found["samples"][:2] == [0.0096085674, 0.0096470954]
    assert found["samples"][-1] == 0.0098432074


def test_several_exit_codes_are_named(here: Path) -> None:
    """A flaky command: run 1 exits 1, runs 8 to 10 exit 3, the others 0."""
    data = json.loads((FIXTURES / "hyperfine" / "exit3.json").read_text())
    data["results"][0]["exit_codes"] = [1, 0, 0, 0, 0, 0, 0, 3, 3, 3]
    (here / "flaky.json").write_text(json.dumps(data, indent=2))
    done = run("flaky.json", "--label", "x", "-o", "out.json")
    assert done.exit_code == 0, done.output
    (found,) = json.loads((here / "out.json").read_text())["metrics"]
    assert found["error"] == ("the command failed in 4 of 10 runs (exit codes 1, 3): give "
                              "--keep-failed-runs to import such runs anyway")


# --- runs recorded as 0 s ---------------------------------------------------------------

def test_some_zero_runs_left_out_with_a_warning(here: Path) -> None:
    """hyperfine --runs 30 'sleep 0.001' (with the default shell): two of the
    thirty "times" are 0.0 (lines 19 and 25 of the file)."""
    (found,), printed = imported(here, "hyperfine/sleep.json")
    assert printed.splitlines()[0] == (
        "hyperfine/sleep.json:4:1: warning: 'sleep 0.001': left out 2 of 30 runs that took "
        f"0 s (below what hyperfine can time): {ADVICE}")
    times = results("hyperfine/sleep.json")[0]["times"]
    assert len(times) == 30 and times.count(0.0) == 2
    assert found["status"] == "ok"
    assert found["samples"] == [t for t in times if t != 0.0]  # the 28 others, in order


def test_true_with_a_shell_has_too_many_zero_runs(here: Path) -> None:
    """hyperfine --runs 30 true: 20 of the 30 "times" are 0.0, so even the
    median is 0: the metric is failed, with the way to measure it."""
    assert results("hyperfine/true.json")[0]["times"].count(0.0) == 20
    (found,), printed = imported(here, "hyperfine/true.json")
    assert printed == (
        "out.json: warning: metric 'hyperfine.true.wall' failed: 20 of 30 runs took 0 s "
        f"(below what hyperfine can time), too many to leave out: {ADVICE}\n"
        "wrote out.json: 1 metric(s), 1 round(s), label 'x'\n")
    assert (found["id"], found["status"], found["error"]) == (
        "hyperfine.true.wall", "failed",
        (f"20 of 30 runs took 0 s (below what hyperfine can time), too many to leave out: "
        f"{ADVICE}"))


def test_true_without_a_shell(here: Path) -> None:
    """hyperfine -N --runs 30 true: no shell, no 0 s runs; --shell none says so."""
    (found,), printed = imported(here, "hyperfine/true-n.json", "--shell", "none")
    times = results("hyperfine/true-n.json")[0]["times"]
    # "times" starts 0.002473077, 0.000621867, 0.003328412: every run is a sample
    assert times[:3] == [0.002473077, 0.000621867, 0.003328412] and 0.0 not in times
    assert (found["status"], found["samples"]) == ("ok", times)
    assert found["params"] == {"command": "true", "shell": "none"}
    assert printed == "wrote out.json: 1 metric(s), 1 round(s), label 'x'\n"


# --- ids and params -----------------------------------------------------------------------

def test_long_command_keeps_a_readable_id(here: Path) -> None:
    """A command of 56 characters, whose slug has 46: kept whole, no hash."""
    (found,), _ = imported(here, "hyperfine/long.json")
    assert found["id"] == "hyperfine.gzip_6_c_usr_bin_fio_sha256sum_binary_dev_null.wall"
    assert found["params"]["command"] == (
        "gzip -6 -c /usr/bin/fio | sha256sum --binary > /dev/null")


def test_id_limit_and_its_hash() -> None:
    """Up to 100 characters a slug is whole; beyond, cut to 91 and hashed."""
    whole = "x" * 100
    assert slug(whole, 100) == whole
    longer = "y" * 101
    assert slug(longer, 100) == "y" * 91 + "_" + hashlib.sha1(longer.encode()).hexdigest()[:8]


def test_the_same_command_gives_the_same_id_under_older_layouts(here: Path) -> None:
    """hyperfine 1.6 to 1.10 export one unnamed "parameter", and before 1.12 no
    "exit_codes" (their BenchmarkResult structs): written from that layout."""
    scan = results("hyperfine/scan.json")[0]
    old = {key: scan[key] for key in ("command", "mean", "stddev", "median", "user",
                                      "system", "min", "max", "times")}
    old["parameter"] = "1"
    (here / "old.json").write_text(json.dumps({"results": [old]}, indent=2))
    done = run("old.json", "--label", "x", "-o", "out.json")
    assert done.exit_code == 0, done.output
    (found,) = json.loads((here / "out.json").read_text())["metrics"]
    assert found["id"] == "hyperfine.gzip_1_c_usr_bin_fio_dev_null.wall"  # as under 1.15
    assert found["params"] == {"command": "gzip -1 -c /usr/bin/fio > /dev/null",
                               "parameter": "1", "shell": "default"}
    assert found["samples"] == scan["times"]


def test_exit_codes_not_matching_times_are_refused(here: Path) -> None:
    data = json.loads((FIXTURES / "hyperfine" / "exit3.json").read_text())
    data["results"][0]["exit_codes"] = [3, 3]
    (here / "odd.json").write_text(json.dumps(data, indent=2))
    done = run("odd.json", "--label", "x", "-o", "out.json")
    assert (done.exit_code, done.output) == (
        2, 'odd.json:2:1: results[0] has 10 "times" but not as many "exit_codes"\n')


# --- the acceptance commands, run now on this machine ---------------------------------

def _live(here: Path, *command: str) -> tuple[list[float], dict[str, Any], str]:
    """The times hyperfine exported for ``command``, the metric imported from
    them, and what the import printed."""
    if shutil.which("hyperfine") is None:
        pytest.skip("hyperfine is not installed (apt-get install hyperfine)")
    subprocess.run(["hyperfine", "--style", "none", "--export-json", "live.json", *command],
                   capture_output=True, check=True, cwd=here, timeout=120)
    times = json.loads((here / "live.json").read_text())["results"][0]["times"]
    done = run("live.json", "--label", "live", "-o", "out.json")
    assert done.exit_code == 0, done.output
    (found,) = json.loads((here / "out.json").read_text())["metrics"]
    return times, found, done.output


def test_live_failing_command_under_i(here: Path) -> None:
    _, found, _ = _live(here, "-i", "--runs", "3", "sleep 0.01; exit 3")
    assert (found["status"], found["error"]) == (
        "failed", ("the command failed in 3 of 3 runs (exit code 3): give --keep-failed-runs "
                  "to import such runs anyway"))


def test_live_true_with_a_shell(here: Path) -> None:
    """How many runs are 0 s varies; what the import does with them does not."""
    times, found, printed = _live(here, "--runs", "10", "true")
    zeros = times.count(0.0)
    if 2 * (len(times) - zeros) > len(times):
        assert found["status"] == "ok"
        assert found["samples"] == [t for t in times if t != 0.0]
        assert (f"left out {zeros} of 10 runs that took 0 s" in printed) == (zeros > 0)
    else:
        assert (found["status"], found["error"]) == (
            "failed", (f"{zeros} of 10 runs took 0 s (below what hyperfine can time), too "
                      f"many to leave out: {ADVICE}"))
