"""The checks stage: comparability of environments, units, hand-typed figures.

Each case under tests/fixtures/checks/ is laid over the errors' base project;
``expected.txt`` holds the exact warnings a build prints (in the order
``--strict`` prints them as errors: exit status 2, nothing written).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from reportgen.analyse.comparability import incomparable, tool_name
from reportgen.cli import main
from reportgen.core import units
from reportgen.core.model import Environment, Metric
from reportgen.site import build as site_build
from tests.golden import CHECKS, cwd, lay_out, run_build, summary_lines, warning_lines

# What report.txt must say for each case, line by line.
TEXT = {
    "mixed_tool": ["1. getpid (not comparable)",
                   "From 46.0 ns to 9,940 ns: n/a, n/a, n/a, not comparable.",
                   "- getpid() latency: guest 9,940 ns, native 46.0 ns; n/a (95% interval n/a, p =",
                   "  n/a): not comparable (tool c-helper vs python-fallback (results/native.json",
                   "Not comparable:", "- Syscalls: not comparable (tool c-helper vs python-fallback"],
    # guest pooled from two files, 3 rounds against native's 5
    "rounds": ["1. getpid (?)", "From 91.0 ns to 182 ns.",
               "  2.01x, p = 0.04): inconclusive (3 rounds, need >= 5)"],
    "prose": ["1. getpid (~5x)", ("A getpid() costs 5.2x (99 ns vs 12 ns) in the guest. Right "
              "figures pass: 46")],
    "probe_version": ["2. fsync (not comparable)"],
    "setup_params": ["2. fsync (not comparable)", ("  n/a): not comparable (file_bytes 268435456 "
                     "vs 67108864, filesystem ext4 vs")],
    "threads": ["Note: syscall.getpid ran 4 threads on the 2 CPU threads of guest: the threads"],
    # five rounds a side, so the converted units show a verdict
    "unit_conversion": ["1. CPU (+21%)", "From 100 ms to 121 ms.", "2. fsync (~19x)",
                        "From 413 MB/s to 22.0 MB/s."],
    "unit_families": ["1. getpid (not comparable)", "From 46.0 ns to 182 MB/s.",
                      "- getpid() latency: guest 182 MB/s, native 46.0 ns; n/a (95% interval n/a, p ="],
}


def cases() -> list[Path]:
    return sorted(p for p in CHECKS.iterdir() if p.is_dir())


def test_every_case_says_what_it_shows() -> None:
    assert sorted(TEXT) == [c.name for c in cases()]


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_warnings_and_page(case: Path, tmp_path: Path) -> None:
    project = lay_out(case, tmp_path / "project")
    status, stderr = run_build(project, "--verbose")
    assert status == 0
    expected = (case / "expected.txt").read_text()
    assert warning_lines(stderr) == expected
    text = (project / "output" / "r" / "report.txt").read_text().splitlines()
    for line in TEXT[case.name]:
        assert line in text


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_warnings_of_a_kind_are_one_line(case: Path, tmp_path: Path) -> None:
    """Without --verbose, one line per kind of warning: the first, with how many
    more there are; together they account for every warning of the case."""
    project = lay_out(case, tmp_path / "project")
    status, stderr = run_build(project)
    assert status == 0
    summary = (case / "summary.txt").read_text()
    assert summary_lines(stderr) == summary
    counted = [int(m.group(1)) + 1 if m else 1 for m in
               (re.search(r" \(and (\d+) more like it; --verbose lists them\)$", line)
                for line in summary.splitlines())]
    assert sum(counted) == len((case / "expected.txt").read_text().splitlines())
    with cwd(project):
        checked = CliRunner().invoke(main, ["check"])
        every = CliRunner().invoke(main, ["check", "--verbose"])
    assert summary_lines(checked.stderr) == summary
    assert warning_lines(every.stderr) == (case / "expected.txt").read_text()


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_strict_makes_them_errors(case: Path, tmp_path: Path) -> None:
    """Every expected warning is an error under --strict, except those about
    the measurements (too few rounds, unstable samples): they stay warnings,
    printed before the errors."""
    project = lay_out(case, tmp_path / "project")
    with cwd(project):
        stay = [f"{w}\n" for w in site_build.check(Path("site.yml"))[1] if not w.strict]
        result = CliRunner().invoke(main, ["build", "--strict"])
    expected = (case / "expected.txt").read_text().splitlines(keepends=True)
    # an escalated warning is printed as the error it has become
    errors = "".join(line.replace(": warning: ", ": ", 1)
                     for line in expected if line not in stay)
    if not errors:
        assert result.exit_code == 0
        return
    assert result.exit_code == 2
    assert result.stderr == "".join(stay) + errors
    assert not (project / "output").exists()
    with cwd(project):
        checked = CliRunner().invoke(main, ["check", "--strict"])
    assert (checked.exit_code, checked.stderr) == (2, "".join(stay) + errors)  # each once


def test_too_few_rounds_is_one_warning_per_report(tmp_path: Path) -> None:
    """Whatever the number of metrics: one line, at report.yml's results, naming
    each environment short of rounds; --strict leaves it a warning."""
    project = lay_out(CHECKS / "prose", tmp_path / "project")
    with cwd(project):
        _analyses, warnings = site_build.check(Path("site.yml"))
    short = [w for w in warnings if "rounds per environment" in w.message]
    assert [(w.path, w.line, w.col, w.strict) for w in short] == [
        ("reports/r/report.yml", 1, 1, False)]
    assert "'native' has 1 round, 'guest' 1, so every comparison with them" in short[0].message


def _built(case: str, tmp_path: Path, formats: str) -> Path:
    """Build a case in ``formats``; returns its report's output dir."""
    project = lay_out(CHECKS / case, tmp_path / "project")
    with cwd(project):
        result = CliRunner().invoke(main, ["build", "--formats", formats])
    assert result.exit_code == 0, result.output
    return project / "output" / "r"


def test_not_comparable_in_every_format(tmp_path: Path) -> None:
    """The mixed-tool case, published as ~216x before: no slowdown anywhere."""
    out = _built("mixed_tool", tmp_path, "html,pdf,txt,md")
    reason = ("tool c-helper vs python-fallback (results/native.json vs "
              "results/guest.json)")
    pdf = " ".join(p.extract_text() for p in PdfReader(out / "report.pdf").pages)
    for name, content in [("report.txt", (out / "report.txt").read_text()),
                          ("report.md", (out / "report.md").read_text()),
                          ("index.html", _read_out((out / "index.html").read_text())),
                          ("report.pdf", pdf)]:
        flat = re.sub(r"\s+", "", content)  # the PDF breaks lines inside the reason
        assert "notcomparable" in flat, name
        assert reason.replace(" ", "") in flat, name
        assert "216" not in flat, name
    html = (out / "index.html").read_text()
    assert ('<span class="badge verdict-not-comparable tier-not-comparable" '
            'title="not comparable">not comparable</span>') in html
    md = (out / "report.md").read_text()
    assert ("| getpid() latency | 46.0 ns | 9,940 ns | not comparable (tool c-helper vs "
            "python-fallback (results/native.json vs results/guest.json)): n/a (95% interval "
            "n/a, p = n/a) |") in md
    site = (out.parent / "index.html").read_text()
    assert "getpid" not in site  # not among the largest slowdowns


def _read_out(html: str) -> str:
    """What a page says: its text and the names it gives images, without the
    charts' drawing coordinates (which would join into any number once the
    spaces between them are taken out)."""
    names = re.findall(r'(?:aria-label|title|alt)="([^"]*)"', html)
    return " ".join([re.sub(r"<[^>]*>", " ", html), *names])


def _metric(unit: str = "ns", tool: str = "c-helper", **params: object) -> Metric:
    return Metric("m", "m", unit, "lower", (1.0, 2.0, 3.0), tool=tool, params=dict(params))


def _env(label: str, metric: Metric, **fields: str) -> Environment:
    return Environment(label, "", "", {}, {"m": metric}, f"results/{label}.json", **fields)


@pytest.mark.parametrize(("a", "b", "reason"), [
    (_metric(), _metric(), ""),
    (_metric(tool="sysbench 1.0.20"), _metric(tool="sysbench 1.0.17"), ""),
    (_metric(tool="dd (GNU coreutils 9.1)"), _metric(tool="dd (FreeBSD 15.0)"), ""),
    (_metric(tool="sysbench 1.0.20"),
     _metric(tool="builtin-memory c-helper (sysbench missing)"),
     "tool sysbench 1.0.20 vs builtin-memory c-helper (sysbench missing)"),
    (_metric(tool="builtin-memory c-helper (sysbench missing)"),
     _metric(tool="builtin-memory python (sysbench missing)"),
     ("tool builtin-memory c-helper (sysbench missing) vs builtin-memory python "
     "(sysbench missing)")),
    (_metric(tool=""), _metric(), "tool none vs c-helper"),
    (_metric(threads=2, oper="read"), _metric(threads=8, oper="read"), "threads 2 vs 8"),
    (_metric(iterations=10), _metric(iterations=10, measured_iterations=5),
     "measured_iterations none vs 5"),
    (_metric(iterations=10, call="syscall(SYS_getpid)", kernel="a"),
     _metric(iterations=10, call="os.getpid()", kernel="b"), ""),
    (_metric(unit="ms"), _metric(unit="s"), ""),
    (_metric(unit="MB/s"), _metric(unit="GiB/s"), ""),
    (_metric(unit="ms"), _metric(unit="MB/s"), "unit ms vs MB/s"),
    (_metric(unit="index"), _metric(unit="index"), ""),
])
def test_comparability_rules(a: Metric, b: Metric, reason: str) -> None:
    found = incomparable(_env("a", a), _env("b", b), "m")
    assert found == (f"{reason} (results/a.json vs results/b.json)" if reason else "")


def test_probe_version_and_profile_are_compared() -> None:
    found = incomparable(_env("a", _metric(), probe_version="0.1.0", profile="quick"),
                         _env("b", _metric(), probe_version="0.1.0", profile="standard"), "m")
    assert found == "profile quick vs standard (results/a.json vs results/b.json)"


@pytest.mark.parametrize(("unit", "into", "factor"), [
    ("s", "ms", 1000.0), ("ns", "us", 1e-3), ("µs", "ns", 1000.0), ("μs", "us", 1.0),
    ("MiB/s", "MB/s", 1.048576), ("GB/s", "KB/s", 1e6), ("KiB/s", "B/s", 1024.0),
    ("index", "index", 1.0), ("index", "ops/s", None), ("ms", "MB/s", None),
])
def test_unit_factors(unit: str, into: str, factor: float | None) -> None:
    found = units.factor(unit, into)
    assert found == (None if factor is None else pytest.approx(factor))


@pytest.mark.parametrize(("tool", "name"), [
    ("sysbench 1.0.20", "sysbench"), ("dd (GNU coreutils 9.1)", "dd"), ("c-helper", "c-helper"),
    ("builtin-memory python (sysbench missing)", "builtin-memory python"), ("fio v3.33", "fio"),
])
def test_tool_names_leave_out_the_version(tool: str, name: str) -> None:
    assert tool_name(tool) == name


def test_seconds_against_milliseconds_compare_after_conversion() -> None:
    """110 ms against 75.7 s was shown as 'b faster'; it is 688 times slower."""
    from reportgen.analyse.analysis import analyse
    from tests import factories as f

    rep = f.report(f.environment("a", f.in_rounds("cpu", [110.0] * 5, unit="ms")),
                   f.environment("b", f.in_rounds("cpu", [75.7] * 5, unit="s")),
                   baseline="a")
    row = analyse(rep).sections[0].metrics[0]
    assert [m.median for m in row.measurements] == [110.0, pytest.approx(75700.0)]
    c = row.comparisons[0]
    assert (c.label, c.tier, c.unit) == ("~688x", "severe", "ms")


def test_units_that_cannot_be_converted_stay_as_measured(tmp_path: Path) -> None:
    out = _built("unit_families", tmp_path, "html,md")
    assert '<td class="num" data-label="Median" role="cell">182 MB/s</td>' in \
        (out / "index.html").read_text()
    assert ("| getpid() latency | 46.0 ns | 182 MB/s | not comparable (unit ns vs MB/s "
            "(results/native.json vs results/guest.json)): n/a (95% interval n/a, p = n/a) |") \
        in (out / "report.md").read_text()
    assert "guest 182 MB/s (not comparable)" in (out / "charts" / "s1.svg").read_text()
