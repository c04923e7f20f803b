"""`reportgen new`: the scaffold builds at once, refuses what it must, quotes safely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from reportgen import scaffold
from reportgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "reports" / "bhyve-smp" / "results"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scaffold"
SEVEN = ["cpu.integer", "syscall.getpid", "process.fork_wait", "memory.dd_zero",
         "memory.sysbench", "disk.write_fsync", "disk.cached_read"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project: a site.yml that builds every reports/* dir."""
    (tmp_path / "site.yml").write_text("title: t\nreports: reports/*\nformats: [html, txt]\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def report_yml(project: Path, slug: str) -> dict[str, object]:
    data = yaml.safe_load((project / "reports" / slug / "report.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_example_results_scaffold_builds(project: Path) -> None:
    done = run("new", "reports/vm-test", "--results", EXAMPLE / "guest.json",
               EXAMPLE / "native.json", "--date", "2026-06-10")
    assert done.exit_code == 0, done.output
    report = project / "reports" / "vm-test"
    for label in ("native", "guest"):  # exact copies, named by label
        assert (report / "results" / f"{label}.json").read_bytes() == \
            (EXAMPLE / f"{label}.json").read_bytes()
    data = report_yml(project, "vm-test")
    assert data["title"] == "Vm test" and str(data["date"]) == "2026-06-10"
    assert data["baseline"] == "native"  # the host, though given second
    sections = data["sections"]
    assert isinstance(sections, list)
    ids = [[m if isinstance(m, str) else m["id"] for m in s["metrics"]] for s in sections]
    assert [scaffold.family_of(i[0]) for i in ids] == SEVEN
    sysbench = sections[4]["metrics"]
    assert {m["short"] for m in sysbench} == {"write t1", "read t1", "write tN", "read tN"}
    assert all("TODO" in s["analysis"] and "{{" in s["analysis"] for s in sections)
    items = data["conclusions"]["items"]  # type: ignore[index]
    assert [i["metrics"] for i in items] == ids
    assert "TODO" in str(data["summary"]) and "TODO" in str(data["intro"])
    system = data["system"]
    assert isinstance(system, list)
    assert [r["key"] for r in system] == ["CPU (native)", "OS (native)", "CPU (guest)",
                                          "OS (guest)"]

    built = run("build", "--formats", "html,txt")
    assert built.exit_code == 0, built.output
    text = (project / "output" / "vm-test" / "report.txt").read_text()
    assert "2. getpid() latency (~4x)" in text
    assert "Measured: 46.0 ns on native, 182 ns on guest" in text
    assert (project / "output" / "vm-test" / "index.html").is_file()


def test_failed_metric_pair_scaffold_builds(project: Path) -> None:
    done = run("new", "reports/kvm", "--results", FIXTURES / "vm-failed.json",
               FIXTURES / "host.json")
    assert done.exit_code == 0, done.output
    text = (project / "reports" / "kvm" / "report.yml").read_text()
    # placeholders only for figures that exist; the failure is explained in comments
    assert "disk.write_fsync.vm" not in text and "memory.sysbench.write.t1.vm" not in text
    assert '# disk.write_fsync has no figure in vm: status "timeout"' in text
    # an error text with a newline stays inside its comment
    assert '("sysbench: command not found\\n# not: a key")' in text
    assert "# not in a section: disk.cached_read is missing from vm" in text
    data = report_yml(project, "kvm")
    assert data["baseline"] == "host"
    assert "not" not in data
    built = run("build", "--formats", "html,txt")
    assert built.exit_code == 0, built.output
    out = (project / "output" / "kvm" / "report.txt").read_text()
    assert "3. write+fsync throughput (n/a)" in out


def test_hostile_title_and_keyword_labels_read_back(project: Path, tmp_path: Path) -> None:
    title = 'A "quoted": title # no comment\n- not a list {{ x }} \u2028 \U0001F600'
    files = []
    for src, label in ((FIXTURES / "host.json", "no"), (FIXTURES / "vm-failed.json", "null")):
        data = json.loads(src.read_text())
        data["environment"]["label"] = label
        path = tmp_path / f"{label}.json"
        path.write_text(json.dumps(data))
        files.append(path)
    created = scaffold.new_report(project / "reports" / "odd", files, title=title)
    assert created.baseline == "no"
    data = report_yml(project, "odd")
    assert data["title"] == title
    assert data["baseline"] == "no"  # a string, not YAML's false


def test_refuses_existing_directory(project: Path) -> None:
    (project / "reports" / "taken").mkdir(parents=True)
    (project / "reports" / "taken" / "keep.txt").write_text("mine")
    done = run("new", "reports/taken", "--results", EXAMPLE / "guest.json",
               EXAMPLE / "native.json")
    assert done.exit_code == 2
    assert done.output == ("reports/taken: already exists; refusing to overwrite it (choose "
                           "another name or remove it first)\n")
    assert [p.name for p in (project / "reports" / "taken").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("slug", ["Upper", "has space", "dot.ted", "ümlaut"])
def test_refuses_bad_slug(project: Path, slug: str) -> None:
    done = run("new", f"reports/{slug}", "--results", EXAMPLE / "guest.json",
               EXAMPLE / "native.json")
    assert done.exit_code == 2
    assert done.output == (f"reports/{slug}: the report name '{slug}' may only use lower-case "
                           "letters, digits, '-' and '_'\n")
    assert not (project / "reports").exists()


def test_missing_and_invalid_results_are_file_line_col(project: Path) -> None:
    bad = project / "bad.json"
    bad.write_text('{"format": "reportgen-results/9", "environment": {"label": "x"}}')
    broken = project / "broken.json"
    broken.write_text('{"format": ')
    done = run("new", "reports/r", "--results", "missing.json", bad, broken)
    assert done.exit_code == 2
    assert done.output.splitlines() == [
        ("bad.json:1:12: unknown results format 'reportgen-results/9': this reportgen reads "
         "'reportgen-results/1' and 'reportgen-results/2'"),
        "broken.json:1:12: JSON syntax error: Expecting value",
        "missing.json:1:1: file not found",
    ]
    assert list(project.glob("reports/*")) == [] and list(project.glob("reports/.*")) == []


def test_duplicate_label_points_at_the_label(project: Path) -> None:
    shutil.copy(EXAMPLE / "guest.json", project / "again.json")
    done = run("new", "reports/r", "--results", EXAMPLE / "guest.json", "again.json")
    assert done.exit_code == 2
    assert done.output.startswith("again.json:")
    assert "environment label 'guest' is already used by" in done.output


def test_baseline_option(project: Path) -> None:
    done = run("new", "reports/r", "--results", EXAMPLE / "native.json", EXAMPLE / "guest.json",
               "--baseline", "guest", "--title", "Guest as baseline")
    assert done.exit_code == 0, done.output
    data = report_yml(project, "r")
    assert data["baseline"] == "guest" and data["title"] == "Guest as baseline"
    assert "{{ syscall.getpid.native.ratio }}" in str(data["sections"])
    wrong = run("new", "reports/s", "--results", EXAMPLE / "native.json",
                EXAMPLE / "guest.json", "--baseline", "host")
    assert wrong.exit_code == 2
    assert wrong.output == ("reportgen new: --baseline 'host' is not the label of a results "
                            "file (native, guest)\n")


@pytest.mark.parametrize("args, message", [
    (["--results", str(EXAMPLE / "guest.json")], "give at least two results files"),
    ([], "name the results files with --results"),
    (["--results", str(EXAMPLE / "guest.json"), str(EXAMPLE / "native.json"),
      "--date", "10.06.2026"], "--date: expected YYYY-MM-DD, got '10.06.2026'"),
])
def test_usage_errors(project: Path, args: list[str], message: str) -> None:
    done = run("new", "reports/r", *args)
    assert done.exit_code == 2
    assert message in done.output and len(done.output.splitlines()) == 1
    assert not (project / "reports" / "r").exists()


def test_first_file_is_baseline_without_a_host(tmp_path: Path) -> None:
    envs = []
    for label in ("kvm", "bhyve"):
        data = json.loads((EXAMPLE / "guest.json").read_text())
        data["environment"]["label"] = label
        path = tmp_path / f"{label}.json"
        path.write_text(json.dumps(data))
        envs.append(path)
    given = scaffold.read_results(envs)
    assert scaffold.choose_baseline(given, None) == "kvm"


@pytest.mark.parametrize("metric_id, family, short", [
    ("memory.sysbench.write.t1", "memory.sysbench", "write t1"),
    ("memory.sysbench.read.tN", "memory.sysbench", "read tN"),
    ("memory.dd_zero", "memory.dd_zero", "dd_zero"),
    ("disk.write_fsync", "disk.write_fsync", "write_fsync"),
    ("cpu", "cpu", "cpu"),
])
def test_families_and_short_names(metric_id: str, family: str, short: str) -> None:
    assert scaffold.family_of(metric_id) == family
    assert scaffold.short_name(metric_id, family) == short


@pytest.mark.parametrize("value", ["plain", "a: b", "#x", "yes", "", "line\nbreak", "\x07",
                                   "x\u2028y\u0085z", '"\\', "{{ a }}", "\ufeffbom"])
def test_scalar_reads_back(value: str) -> None:
    out = scaffold.scalar(value)
    assert "\n" not in out and yaml.safe_load(f"key: {out}") == {"key": value}


def test_wrapping_never_splits_a_placeholder() -> None:
    text = "word " * 14 + "{{ memory.sysbench.write.t1.guest.label }} and more words here."
    lines = scaffold.block(text, 6).splitlines()
    assert all(len(line) <= scaffold.WIDTH or "{{" in line for line in lines)
    assert any("{{ memory.sysbench.write.t1.guest.label }}" in line for line in lines)
