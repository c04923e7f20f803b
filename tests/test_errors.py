"""Bad input: one exact line per problem, exit status 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.core.errors import Problem, kind, new_since, summary
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


# --- warnings of one kind ------------------------------------------------------

def _warning(line: int, message: str, path: str = "r/report.yml") -> Problem:
    return Problem(path, line, 3, message, warning=True)


@pytest.mark.parametrize(("a", "b"), [
    (("metric 'cpu.integer' in 'a' has unstable samples (CV 13%); its verdicts may be "
      "inconclusive"),
     ("metric 'disk.cached_read' in 'b' has unstable samples (CV 40%, 1 outlier); its verdicts "
      "may be inconclusive")),
    (("figure '5.2x' typed by hand matches no figure of the report (nearest: 3.99x, "
      "syscall.getpid in guest, interval); write it with a placeholder"),
     ("figure '1,820 ns' typed by hand matches no figure of the report (nearest: 182 ns, "
      "syscall.getpid in guest); write it with a placeholder")),
    ("metric 'a' ran 4 threads on 2 CPU threads: they competed for CPUs",
     "metric 'b' ran 16 threads on 8 CPU threads: they competed for CPUs"),
    (("metric 'x' is not comparable: probe version 0.1.0 vs 0.2.0 (results/a.json vs "
      "results/b.json)"),
     ("metric 'y' is not comparable: probe version 0.1.1 vs 0.3.0 (results/a.json vs "
      "results/c.json)")),
])
def test_same_kind(a: str, b: str) -> None:
    assert kind(a) == kind(b)


@pytest.mark.parametrize(("a", "b"), [
    (("metric 'x' is not comparable: tool c-helper vs python-fallback (results/a.json vs "
      "results/b.json)"),
     "metric 'x' is not comparable: unit ns vs MB/s (results/a.json vs results/b.json)"),
    ("broken link 'a.html': no such file", "broken link '#x': no anchor '#x' in index.html"),
    ("TODO left from `reportgen new`: replace it with your own words",
     ("figure '5x' typed by hand matches no figure of the report (nearest: 4x); write it "
      "with a placeholder")),
])
def test_other_kinds(a: str, b: str) -> None:
    assert kind(a) != kind(b)


def test_summary_is_one_line_per_kind_in_first_come_order() -> None:
    todo = "TODO left from `reportgen new`: replace it with your own words"
    warnings = [_warning(4, todo), _warning(9, "figure '5x' typed by hand matches no figure "
                                                "of the report (nearest: 4x); write it with a "
                                                "placeholder"),
                _warning(12, todo), _warning(20, todo)]
    assert summary(warnings) == [
        f"r/report.yml:4:3: warning: {todo} (and 2 more like it; --verbose lists them)",
        ("r/report.yml:9:3: warning: figure '5x' typed by hand matches no figure of the report "
         "(nearest: 4x); write it with a placeholder")]
    assert summary(warnings, verbose=True) == [str(w) for w in warnings]
    assert summary([]) == []


def test_new_since_leaves_out_what_was_there_even_moved() -> None:
    todo = "TODO left from `reportgen new`: replace it with your own words"
    before = [_warning(4, todo), _warning(12, todo), _warning(2, todo, "s/report.yml")]
    # an edit put a line above both TODOs of r and added a third one at the end
    after = [_warning(5, todo), _warning(13, todo), _warning(30, todo),
             _warning(2, todo, "s/report.yml")]
    assert new_since(after, before) == [_warning(30, todo)]
    # the exact place wins: one of two TODOs removed, the other is not new
    assert new_since([_warning(12, todo)], before) == []
    assert new_since(before, []) == before
