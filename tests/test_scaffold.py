"""`reportgen new`: the scaffold builds at once, refuses what it must, quotes safely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from reportgen.cli import main
from reportgen.scaffold import content, yaml_text
from reportgen.scaffold import new as scaffold

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
    assert [content.family_of(i[0]) for i in ids] == SEVEN
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


def alternating(tmp_path: Path, count: int = 6) -> list[Path]:
    """Results files a, b, a, b, ... taken an hour apart: the example's native
    run as a, its guest run as b, each file's rounds ten minutes apart."""
    files = []
    for k in range(count):
        label, source = ("a", "native") if k % 2 == 0 else ("b", "guest")
        data = json.loads((EXAMPLE / f"{source}.json").read_text())
        data["environment"]["label"] = label
        data["collected_at"] = f"2026-06-09T{10 + k:02d}:00:00Z"
        for r in data["rounds"]:
            r["started_at"] = f"2026-06-09T{10 + k:02d}:{(r['round'] - 1) * 10:02d}:00Z"
        path = tmp_path / f"{k + 1}-{label}.json"
        path.write_text(json.dumps(data, indent=2))
        files.append(path)
    return files


def test_files_of_one_label_become_one_environment(project: Path, tmp_path: Path) -> None:
    files = alternating(tmp_path)
    done = run("new", "reports/aa", "--results", *files, "--baseline", "a")
    assert done.exit_code == 0, done.output
    report = project / "reports" / "aa"
    for k, path in enumerate(files):  # byte copies, numbered within their label
        name = f"{path.stem[2]}.{k // 2 + 1}.json"
        assert (report / "results" / name).read_bytes() == path.read_bytes()
    assert report_yml(project, "aa")["results"] == [
        "results/a.1.json", "results/a.2.json", "results/a.3.json",
        "results/b.1.json", "results/b.2.json", "results/b.3.json"]
    text = (report / "report.yml").read_text()
    assert "results:  # files of one label are pooled as rounds of one environment\n" in text
    built = run("build", "--formats", "txt")
    assert built.exit_code == 0, built.output
    data = project / "output" / "aa" / "data"
    assert sorted(p.name for p in data.iterdir()) == [
        "a.1.json", "a.2.json", "a.3.json", "b.1.json", "b.2.json", "b.3.json"]
    env = scaffold.read_results(files)[1].env
    # three files of five rounds each: fifteen rounds, numbered in the order they started
    assert env.label == "b" and [r.number for r in env.rounds] == list(range(1, 16))
    assert [r.started_at for r in env.rounds] == [
        f"2026-06-09T{hour}:{minute:02d}:00Z" for hour in (11, 13, 15) for minute in range(0, 50, 10)]


def test_files_measured_differently_are_not_pooled(project: Path, tmp_path: Path) -> None:
    files = alternating(tmp_path, 4)
    data = json.loads(files[3].read_text())
    data["metrics"][1]["tool"] = "python-fallback"
    files[3].write_text(json.dumps(data, indent=2))
    done = run("new", "reports/r", "--results", *files)
    assert done.exit_code == 2
    assert done.output == (  # the files are in the working directory
        "4-b.json:4:14: results files '2-b.json' and '4-b.json' are both labelled 'b' but "
        "cannot be pooled: metric 'syscall.getpid' was measured with a different tool "
        "('c-helper' and 'python-fallback')\n")
    assert not (project / "reports").exists()


def test_same_file_twice_or_one_label_is_refused(project: Path) -> None:
    shutil.copy(EXAMPLE / "guest.json", project / "again.json")
    twice = run("new", "reports/r", "--results", "again.json", "./again.json",
                EXAMPLE / "native.json")
    assert twice.exit_code == 2
    assert twice.output == "again.json:1:1: given twice with --results\n"
    alone = run("new", "reports/r", "--results", EXAMPLE / "guest.json", "again.json")
    assert alone.exit_code == 2
    assert alone.output == ("reportgen new: every results file is labelled 'guest'; give "
                            "files of at least two environments (the baseline and one to "
                            "compare with it)\n")
    assert not (project / "reports").exists()


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
    assert content.family_of(metric_id) == family
    assert content.short_name(metric_id, family) == short


@pytest.mark.parametrize("value", ["plain", "a: b", "#x", "yes", "", "line\nbreak", "\x07",
                                   "x\u2028y\u0085z", '"\\', "{{ a }}", "\ufeffbom"])
def test_scalar_reads_back(value: str) -> None:
    out = yaml_text.scalar(value)
    assert "\n" not in out and yaml.safe_load(f"key: {out}") == {"key": value}


def test_wrapping_never_splits_a_placeholder() -> None:
    text = "word " * 14 + "{{ memory.sysbench.write.t1.guest.label }} and more words here."
    lines = yaml_text.block(text, 6).splitlines()
    assert all(len(line) <= yaml_text.WIDTH or "{{" in line for line in lines)
    assert any("{{ memory.sysbench.write.t1.guest.label }}" in line for line in lines)


def test_mixed_tools_scaffold_warns_at_the_new_report(project: Path, tmp_path: Path) -> None:
    """The scaffold builds; its warnings name the report where it ends up, not
    the directory it was staged in, and the build flags the TODOs left."""
    guest = json.loads((EXAMPLE / "guest.json").read_text())
    getpid = next(m for m in guest["metrics"] if m["id"] == "syscall.getpid")
    getpid["tool"] = "python-fallback"
    (tmp_path / "guest.json").write_text(json.dumps(guest))
    done = run("new", "reports/mixed", "--results", EXAMPLE / "native.json",
               tmp_path / "guest.json")
    assert done.exit_code == 0, done.output
    assert done.stderr.splitlines()[0] == (
        "reports/mixed/report.yml:46:15: warning: metric 'syscall.getpid' is not comparable: "
        "tool c-helper vs python-fallback (results/native.json vs results/guest.json)")
    built = run("check", "--strict")
    assert built.exit_code == 2
    assert "reports/mixed/report.yml:14:3: TODO left from `reportgen new`: replace " \
           "it with your own words" in built.stderr.splitlines()


def _rounds_kept(source: Path, target: Path, keep: int, unsteady: tuple[str, ...] = ()) -> Path:
    """``source`` with only its first ``keep`` rounds; the ``unsteady`` metrics'
    last round three times slower, so that their samples are unstable."""
    data = json.loads(source.read_text())
    data["rounds"] = data["rounds"][:keep]
    for m in data["metrics"]:
        pairs = [(x * (3 if m["id"] in unsteady and r == keep else 1), r)
                 for x, r in zip(m["samples"], m["sample_rounds"]) if r <= keep]
        m["samples"], m["sample_rounds"] = [x for x, _ in pairs], [r for _, r in pairs]
    target.write_text(json.dumps(data, indent=2))
    return target


def _samples_line(results: Path, metric: str) -> int:
    """The line of ``metric``'s "samples" array in ``results``, where a warning
    about its samples points (read from the file, not from the checker)."""
    lines = results.read_text().splitlines()
    at = lines.index(f'      "id": "{metric}",')
    return next(n for n in range(at, len(lines)) if lines[n].startswith('      "samples": [')) + 1


def test_new_says_once_that_verdicts_need_more_rounds(project: Path, tmp_path: Path) -> None:
    """Two runs of three rounds: one line for the rounds, whatever the number of
    metrics; one line for the unstable samples of two metrics (--verbose: both)."""
    native = _rounds_kept(EXAMPLE / "native.json", tmp_path / "native.json", 3)
    guest = _rounds_kept(EXAMPLE / "guest.json", tmp_path / "guest.json", 3,
                         ("cpu.integer", "process.fork_wait"))
    done = run("new", "reports/vm", "--results", native, guest)
    assert done.exit_code == 0, done.output
    rounds = ("reports/vm/report.yml:9:1: warning: verdicts need at least 5 rounds per "
              "environment; 'native' has 3 rounds, 'guest' 3, so every comparison with them is "
              "inconclusive ('?'): measure more with `reportgen probe --label LABEL --rounds 5` "
              "and add the files to the report's results (files of one label are pooled as "
              "rounds)")
    unstable = ("reports/vm/results/guest.json:{}:18: warning: metric '{}' in 'guest' has "
                "unstable samples (CV {}%); its verdicts may be inconclusive")
    copied = project / "reports/vm/results/guest.json"
    assert done.stderr.splitlines()[:-2] == [
        unstable.format(_samples_line(copied, "cpu.integer"), "cpu.integer", 69)
        + " (and 1 more like it; --verbose lists them)",
        rounds]
    assert [line for line in done.stderr.splitlines() if "verdicts need" in line] == [rounds]

    again = run("new", "reports/vm2", "--results", native, guest, "--verbose")
    assert again.stderr.splitlines()[:-2] == [
        unstable.format(_samples_line(copied, "cpu.integer"), "cpu.integer", 69)
        .replace("/vm/", "/vm2/"),
        unstable.format(_samples_line(copied, "process.fork_wait"), "process.fork_wait", 70)
        .replace("/vm/", "/vm2/"),
        rounds.replace("/vm/", "/vm2/")]

    built = run("build", "--formats", "txt")
    assert built.exit_code == 0, built.output
    # two reports short of rounds, each with TODOs: still one line of each kind
    assert [line.split(": warning: ")[1][:40] for line in built.stderr.splitlines()
            if ": warning: " in line] == [
        "metric 'cpu.integer' in 'guest' has unst", "verdicts need at least 5 rounds per envi",
        "TODO left from `reportgen new`: replace "]
    assert "(?)" in (project / "output" / "vm" / "report.txt").read_text()
