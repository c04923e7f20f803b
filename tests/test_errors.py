"""Bad input: one exact line per problem, exit status 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden import ERRORS, error_cases, lay_out, run_build


@pytest.mark.parametrize("case", error_cases(), ids=lambda p: p.name)
def test_bad_input_is_reported_exactly(case: Path, tmp_path: Path) -> None:
    project = lay_out(case, tmp_path / "project")
    status, stderr = run_build(project)
    assert stderr == (case / "expected.txt").read_text()
    assert status == 2
    assert not (project / "output").exists()


def test_previous_output_survives_bad_input(tmp_path: Path) -> None:
    project = lay_out(ERRORS / "_base", tmp_path / "project")
    assert run_build(project)[0] == 0
    before = {p: p.read_bytes() for p in (project / "output").rglob("*") if p.is_file()}
    report = project / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace("baseline: native", "baseline: [native"))
    assert run_build(project)[0] == 2
    after = {p: p.read_bytes() for p in (project / "output").rglob("*") if p.is_file()}
    assert after == before


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    project = lay_out(ERRORS / "duplicate_key", tmp_path / "project")
    done = subprocess.run([sys.executable, "-m", "reportgen", "build"], cwd=project,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == "reports/r/report.yml:4:1: duplicate key 'baseline' (first defined at line 3)\n"
    assert done.stdout == ""


def test_several_reports_report_every_problem(tmp_path: Path) -> None:
    project = lay_out(ERRORS / "unknown_key", tmp_path / "project")
    broken = project / "reports" / "s"
    (project / "reports" / "r").rename(broken)
    lay_out(ERRORS / "duplicate_key", tmp_path / "other")
    (tmp_path / "other" / "reports" / "r").rename(project / "reports" / "r")
    (project / "site.yml").write_text("reports: [reports/*]\nformats: [txt]\n")
    status, stderr = run_build(project)
    assert status == 2
    assert stderr.splitlines() == [
        "reports/r/report.yml:4:1: duplicate key 'baseline' (first defined at line 3)",
        "reports/s/report.yml:1:1: unknown key 'titel' (did you mean 'title'?)",
        "reports/s/report.yml:13:5: unknown key 'analyis' in sections[1] (did you mean 'analysis'?)",
    ]
