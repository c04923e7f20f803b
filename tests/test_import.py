"""`reportgen import`: each tool's real output against its expected results file,
reports built from imports, and every kind of bad input with its exact message."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator

from reportgen.analyse.analysis import analyse
from reportgen.cli import main
from reportgen.importers.common import slug
from reportgen.read import report_yml, results
from reportgen.read.validate import schema
from tests.import_golden import CASES, EXPECTED, FIXTURES, Case, run_import, stage


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", *(str(a) for a in args)],
                              catch_exceptions=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- each fixture against its expected file -----------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_import_matches_expected_and_schema(case: Case, tmp_path: Path) -> None:
    written = run_import(case, tmp_path)
    assert written.read_text() == (EXPECTED / f"{case.name}.json").read_text()
    doc = json.loads(written.read_text())
    Draft202012Validator(schema("results")).validate(doc)
    assert [f["name"] for f in doc["provenance"]["files"]] == [Path(f).name for f in case.files]
    assert [f["sha256"] for f in doc["provenance"]["files"]] == [
        hashlib.sha256((FIXTURES / f).read_bytes()).hexdigest() for f in case.files]
    assert len(doc["rounds"]) == len(case.files)


def _metrics(name: str) -> dict[str, dict[str, object]]:
    doc = json.loads((EXPECTED / f"{name}.json").read_text())
    return {m["id"]: m for m in doc["metrics"]}


def test_fio_figures_units_and_params() -> None:
    metrics = _metrics("fio-idle")
    assert list(metrics) == ["fio.r.read.bw", "fio.r.read.iops", "fio.r.read.clat_p50",
                             "fio.r.read.clat_p99", "fio.r.read.clat_p99_9"]
    raw = json.loads((FIXTURES / "fio" / "idle-1.json").read_text())["jobs"][0]["read"]
    firsts = {k: m["samples"][0] for k, m in metrics.items()}  # type: ignore[index]
    assert firsts["fio.r.read.bw"] == raw["bw_bytes"] / 2**20
    assert firsts["fio.r.read.iops"] == raw["iops"]
    assert firsts["fio.r.read.clat_p99_9"] == raw["clat_ns"]["percentile"]["99.900000"] / 1000
    assert [(m["unit"], m["better"]) for m in metrics.values()] == [
        ("MiB/s", "higher"), ("IO/s", "higher"), ("us", "lower"), ("us", "lower"),
        ("us", "lower")]
    assert metrics["fio.r.read.bw"]["params"] == {
        "rw": "randread", "rwmixread": "50", "bs": "4k", "iodepth": "1", "numjobs": "1",
        "ioengine": "psync", "direct": "0", "fsync": "0", "fdatasync": "0", "size": "64M",
        "runtime": "3"}
    two = _metrics("fio-two-jobs")
    # global options apply to every job; a job's own options win
    assert two["fio.seqread.read.bw"]["params"]["bs"] == "64k"  # type: ignore[index]
    assert two["fio.syncwrite.write.bw"]["params"] == {
        "rw": "randwrite", "rwmixread": "50", "bs": "4k", "iodepth": "1", "numjobs": "1",
        "ioengine": "psync", "direct": "0", "fsync": "0", "fdatasync": "16", "size": "16M",
        "runtime": "1"}
    assert not [m for m in two if ".seqread.write." in m or ".syncwrite.read." in m]


def test_sysbench_figures_and_latency_below_its_resolution() -> None:
    cpu = _metrics("sysbench-cpu-idle")
    assert list(cpu) == ["sysbench.cpu.t1.events_per_s", "sysbench.cpu.t1.latency_avg",
                         "sysbench.cpu.t1.latency_p95"]
    assert cpu["sysbench.cpu.t1.events_per_s"]["samples"] == [3395.86, 4432.48, 2968.28,
                                                              3219.84, 3439.29]
    memory = _metrics("sysbench-memory")
    assert memory["sysbench.memory.write.t1.mib_per_s"]["samples"] == [7414.02]
    low = memory["sysbench.memory.write.t1.latency_p95"]
    assert (low["status"], low["error"]) == (
        "failed", "sysbench printed 0.00 ms: below the 0.01 ms it can show")
    threads = _metrics("sysbench-threads")["sysbench.threads.t1.events_per_s"]
    assert threads["samples"] == [2424 / 1.0002]  # total events over total time
    assert _metrics("sysbench-fileio")["sysbench.fileio.rndrw.t1.reads_per_s"]["params"] == {
        "test": "fileio", "threads": 1, "files": "4", "file_size": "8MiB", "block_size": "16KiB",
        "open_flags": "(none)", "rw_ratio": "1.50", "fsync_every": "100",
        "fsync_at_end": "Enabled", "io_mode": "synchronous", "mode": "rndrw"}


def test_live_fio_run_imports_bandwidth_iops_and_tail_latency(here: Path) -> None:
    """The acceptance command itself, run now on this machine."""
    if shutil.which("fio") is None:
        pytest.skip("fio is not installed (apt-get install fio)")
    made = subprocess.run(["fio", "--name=r", "--rw=randread", "--bs=4k", "--size=64M",
                           "--runtime=3", "--time_based", "--output-format=json"],
                          capture_output=True, check=True, cwd=here, timeout=120)
    (here / "live.json").write_bytes(made.stdout)
    done = run("fio", "live.json", "--label", "live", "-o", "out.json")
    assert done.exit_code == 0, done.output
    doc = json.loads((here / "out.json").read_text())
    ok = {m["id"]: m for m in doc["metrics"] if m["status"] == "ok" and m["samples"]}
    assert set(ok) == {f"fio.r.read.{k}" for k in
                       ("bw", "iops", "clat_p50", "clat_p99", "clat_p99_9")}
    assert doc["provenance"]["tool"] == "fio" and doc["provenance"]["tool_version"].startswith("3.")


# --- reports from imports ------------------------------------------------------

PAIRS = [("fio-idle", "fio-busy"), ("sysbench-cpu-idle", "sysbench-cpu-busy"),
         ("hyperfine-idle", "hyperfine-busy"), ("pts-gvno3", "pts-nogvno3")]


def _new_and_build(project: Path, base: str, other: str) -> Path:
    (project / "site.yml").write_text("title: t\nreports: reports/*\nformats: [txt]\n")
    for name in (base, other):
        shutil.copyfile(EXPECTED / f"{name}.json", project / f"{name}.json")
    made = CliRunner().invoke(main, ["new", "reports/r", "--results", f"{base}.json",
                                     f"{other}.json", "--date", "2026-11-27"])
    assert made.exit_code == 0, made.output
    built = CliRunner().invoke(main, ["build", "--formats", "txt"])
    assert built.exit_code == 0, built.output
    return project / "reports" / "r"


@pytest.mark.parametrize(("base", "other"), PAIRS, ids=[p[0].split("-")[0] for p in PAIRS])
def test_new_scaffolds_and_builds_from_imports(here: Path, base: str, other: str) -> None:
    report = _new_and_build(here, base, other)
    sections = analyse(report_yml.load_report(report).report).sections
    ids = [m.id for s in sections for m in s.metrics]
    assert ids == list(_metrics(base))  # every imported metric, in the file's order
    # a long badge wraps with its numbered title: compare the words
    text = " ".join((here / "output" / "r" / "report.txt").read_text().split())
    assert all(s.badge and s.badge in text for s in sections)


def test_fio_badges_follow_the_data(here: Path) -> None:
    report = _new_and_build(here, "fio-idle", "fio-busy")
    (section,) = analyse(report_yml.load_report(report).report).sections
    assert section.title == "fio r: read"  # one section per fio job
    compared = {m.id: m.measurements[1] for m in section.metrics}
    for metric_id, better in (("fio.r.read.bw", "higher"), ("fio.r.read.clat_p99", "lower")):
        measured = compared[metric_id]
        comparison = measured.comparison
        assert comparison is not None and comparison.better == better
        worse = (measured.median or 0) < comparison.base_median if better == "higher" \
            else (measured.median or 0) > comparison.base_median
        assert worse  # the busy machine is slower in both figures...
        assert comparison.slowdown > 1  # ...and the comparison says so, in each direction
        assert "faster" not in comparison.label and comparison.label in section.badge
    bw = compared["fio.r.read.bw"].comparison
    p99 = compared["fio.r.read.clat_p99"].comparison
    assert bw is not None and bw.label.startswith("-")  # throughput falls
    assert p99 is not None and (p99.label.startswith("+") or p99.label.startswith("~"))


# --- bad input -------------------------------------------------------------------

def _cut(relative: str, size: int) -> Callable[[Path], Path]:
    def make(into: Path) -> Path:
        target = into / ("cut-" + Path(relative).name)
        target.write_bytes((FIXTURES / relative).read_bytes()[:size])
        return target
    return make


def _text(name: str, text: str) -> Callable[[Path], Path]:
    def make(into: Path) -> Path:
        (into / name).write_text(text)
        return into / name
    return make


def _edited(relative: str, old: str, new: str) -> Callable[[Path], Path]:
    def make(into: Path) -> Path:
        source = (FIXTURES / relative).read_text()
        assert old in source
        target = into / ("edited-" + Path(relative).name)
        target.write_text(source.replace(old, new))
        return target
    return make


def _fixture(relative: str) -> Callable[[Path], Path]:
    return lambda into: stage(relative, into)


BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE bomb [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<PhoronixTestSuite>&b;'
        '</PhoronixTestSuite>\n')

BAD = [
    ("fio-empty", "fio", _text("empty.json", "\n"), (), "empty.json:1:1: empty file"),
    ("fio-truncated", "fio", _cut("fio/idle-1.json", 3000), (),
     "cut-idle-1.json:120:9: truncated fio JSON output: the file ends inside the JSON"),
    ("fio-unknown-version", "fio", _edited("fio/idle-1.json", "fio-3.33", "fio-4.0"), (),
     ("edited-idle-1.json:2:1: unknown fio version 'fio-4.0': this importer reads the JSON "
     "of fio 2.0.10 (the first to write JSON) to 3.x")),
    ("fio-before-json", "fio", _edited("fio/idle-1.json", "fio-3.33", "fio-2.0.9"), (),
     ("edited-idle-1.json:2:1: unknown fio version 'fio-2.0.9': this importer reads the JSON "
     "of fio 2.0.10 (the first to write JSON) to 3.x")),
    ("fio-given-hyperfine", "fio", _fixture("hyperfine/idle-1.json"), (),
     'hyperfine/idle-1.json:1:1: not fio JSON output: no "fio version" key'),
    ("fio-given-sysbench", "fio", _fixture("sysbench/cpu-idle-1.txt"), (),
     "sysbench/cpu-idle-1.txt:1:1: not fio JSON output: no JSON object in the file"),
    ("sysbench-empty", "sysbench", _text("empty.txt", ""), (), "empty.txt:1:1: empty file"),
    ("sysbench-given-fio", "sysbench", _fixture("fio/idle-1.json"), (),
     "fio/idle-1.json:1:1: not sysbench output: no 'sysbench <version>' line"),
    ("sysbench-truncated", "sysbench", _cut("sysbench/cpu-idle-1.txt", 300), (),
     "cut-cpu-idle-1.txt:1:1: truncated sysbench output: no 'General statistics' section"),
    ("sysbench-unnamed-test", "sysbench", _fixture("sysbench/mutex.txt"), (),
     ("sysbench/mutex.txt:1:1: sysbench's threads and mutex tests print no settings, so the "
     "output does not say which test made it: give --test threads or --test mutex")),
    ("sysbench-wrong-test", "sysbench", _fixture("sysbench/cpu-idle-1.txt"),
     ("--test", "mutex"),
     ("sysbench/cpu-idle-1.txt:1:1: this is the output of sysbench's cpu test, not mutex "
     "(--test)")),
    ("hyperfine-empty", "hyperfine", _text("empty.json", " "), (), "empty.json:1:1: empty file"),
    ("hyperfine-given-fio", "hyperfine", _fixture("fio/idle-1.json"), (),
     'fio/idle-1.json:1:1: not hyperfine --export-json output: no "results" list'),
    ("hyperfine-truncated", "hyperfine", _cut("hyperfine/idle-1.json", 700), (),
     ("cut-idle-1.json:35:7: truncated hyperfine --export-json output: the file ends inside "
     "the JSON")),
    ("pts-empty", "pts", _text("composite.xml", ""), (), "composite.xml:1:1: empty file"),
    ("pts-truncated", "pts", _cut("pts/gvno3/composite.xml", 2000), (),
     ("cut-composite.xml:18:852: truncated Phoronix Test Suite result file: the file ends "
     "inside the XML")),
    ("pts-given-fio", "pts", _fixture("fio/idle-1.json"), (),
     ("fio/idle-1.json:1:1: not a Phoronix Test Suite result file: XML syntax error: not "
     "well-formed (invalid token)")),
    ("pts-other-xml", "pts", _text("other.xml", '<?xml version="1.0"?>\n<results/>\n'), (),
     ("other.xml:2:1: not a Phoronix Test Suite result file: the root element is <results>, "
     "not <PhoronixTestSuite>")),
    ("pts-entities", "pts", _text("bomb.xml", BOMB), (),
     ("bomb.xml:1:1: not a Phoronix Test Suite result file: it declares a document type or "
     "entities, which result files never do (refused, for safety)")),
    ("pts-unknown-system", "pts", _fixture("pts/gvno3/composite.xml"), ("--system", "KVM"),
     "pts/gvno3/composite.xml:1:1: no system 'KVM' in the file (it has: GVNO3)"),
    ("missing", "fio", lambda into: into / "nowhere.json", (),
     "nowhere.json:1:1: file not found"),
]


@pytest.mark.parametrize(("tool", "make", "options", "message"),
                         [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(
        here: Path, tool: str, make: Callable[[Path], Path], options: tuple[str, ...],
        message: str) -> None:
    bad = Path(make(here)).relative_to(here)
    (here / "out.json").write_text("previous\n")
    done = run(tool, bad, "--label", "x", "-o", "out.json", *options)
    assert (done.exit_code, done.output) == (2, message + "\n")
    assert (here / "out.json").read_text() == "previous\n"  # left as it was
    assert sorted(p.name for p in here.glob(".out.json*")) == []  # no temporary file left


def _two_systems(into: Path) -> Path:
    """The real GVNO3 file with the NoGVNO3 system and its entries added: the shape
    of a comparison that PTS merged into one file."""
    one = (FIXTURES / "pts" / "gvno3" / "composite.xml").read_text()
    other = (FIXTURES / "pts" / "nogvno3" / "composite.xml").read_text()
    system = other[other.index("  <System>"):other.index("</System>") + len("</System>\n")]
    merged = one.replace("  <Result>", system + "  <Result>", 1)
    entries = [e.split("</Entry>")[0] for e in other.split("<Entry>")[1:]]
    chunks = merged.split("</Data>")
    merged = "".join(c + (f"  <Entry>{entries[i]}</Entry>\n    </Data>" if i < len(entries)
                          else "") for i, c in enumerate(chunks))
    (into / "both.xml").write_text(merged)
    return into / "both.xml"


def test_pts_file_of_several_systems_needs_system(here: Path) -> None:
    _two_systems(here)
    done = run("pts", "both.xml", "--label", "x", "-o", "out.json")
    assert (done.exit_code, done.output) == (
        2, ("both.xml:1:1: holds the results of 2 systems (GVNO3, NoGVNO3): choose one with "
           "--system\n"))
    assert not (here / "out.json").exists()
    for system, alone in (("GVNO3", "gvno3"), ("NoGVNO3", "nogvno3")):
        done = run("pts", "both.xml", "--label", alone, "--system", system, "-o",
                   f"{alone}.json")
        assert done.exit_code == 0, done.output
        picked = json.loads((here / f"{alone}.json").read_text())
        expected = json.loads((EXPECTED / f"pts-{alone}.json").read_text())
        assert picked["metrics"] == expected["metrics"]  # only that system's samples
        assert picked["system"] == expected["system"]


def test_same_file_twice_is_refused(here: Path) -> None:
    stage("fio/idle-1.json", here)
    shutil.copy(here / "fio" / "idle-1.json", here / "again.json")
    done = run("fio", "fio/idle-1.json", "again.json", "--label", "x", "-o", "out.json")
    assert (done.exit_code, done.output) == (
        2, ("again.json:1:1: the same content as fio/idle-1.json: each round may be imported "
           "once\n"))


def test_rounds_measured_differently_are_not_pooled(here: Path) -> None:
    stage("fio/idle-1.json", here)
    _edited("fio/idle-2.json", '"bs" : "4k"', '"bs" : "8k"')(here)
    done = run("fio", "fio/idle-1.json", "edited-idle-2.json", "--label", "x", "-o", "out.json")
    assert (done.exit_code, done.output) == (
        2, ("fio/idle-1.json, edited-idle-2.json: cannot be pooled as rounds of one "
           "environment: metric 'fio.r.read.bw' was measured with a different params "
           "({'rw': 'randread', 'rwmixread': '50', 'bs': '4k', 'iodepth': '1', 'numjobs': "
           "'1', 'ioengine': 'psync', 'direct': '0', 'fsync': '0', 'fdatasync': '0', "
           "'size': '64M', 'runtime': '3'} and {'rw': 'randread', 'rwmixread': '50', 'bs': "
           "'8k', 'iodepth': '1', 'numjobs': '1', 'ioengine': 'psync', 'direct': '0', "
           "'fsync': '0', 'fdatasync': '0', 'size': '64M', 'runtime': '3'})\n"))
    assert not (here / "out.json").exists()


@pytest.mark.parametrize(("args", "message"), [
    (("--label", "Guest"), ("reportgen import: --label: expected a short name of lower-case "
                           "letters, digits, '_' and '-', starting with a letter; got 'Guest'")),
    (("--label", "x", "--system", "A"), "reportgen import: --system applies to pts only"),
    (("--label", "x", "--test", "cpu"), "reportgen import: --test applies to sysbench only"),
    (("--label", "x", "--shell", "none"), "reportgen import: --shell applies to hyperfine only"),
    (("--label", "x", "--keep-failed-runs"),
     "reportgen import: --keep-failed-runs applies to hyperfine only"),
])
def test_command_line_mistakes(here: Path, args: tuple[str, ...], message: str) -> None:
    stage("fio/idle-1.json", here)
    done = run("fio", "fio/idle-1.json", "-o", "out.json", *args)
    assert (done.exit_code, done.output) == (2, message + "\n")
    assert not (here / "out.json").exists()


def test_several_files_are_rounds_in_the_order_they_ran(here: Path) -> None:
    given = (3, 5, 1, 4, 2)
    for n in given:
        stage(f"fio/idle-{n}.json", here)
    done = run("fio", *(f"fio/idle-{n}.json" for n in given), "--label", "idle",
               "-o", "out.json")
    assert done.exit_code == 0, done.output
    assert done.output == "wrote out.json: 5 metric(s), 5 round(s), label 'idle'\n"
    written = json.loads((here / "out.json").read_text())
    expected = json.loads((EXPECTED / "fio-idle.json").read_text())
    assert written["metrics"] == expected["metrics"] and written["rounds"] == expected["rounds"]
    assert [f["name"] for f in written["provenance"]["files"]] == [
        f"idle-{n}.json" for n in given]  # as given


@pytest.mark.parametrize(("text", "expected"), [
    ("r", "r"), ("Seq Read/64k", "seq_read_64k"), ("--", "x"),
    ("gzip -6 -c /usr/bin/fio > /dev/null", "gzip_6_c_usr_bin_fio_dev_null"),
    ("fftw-stock/tests/bench  --time-repeat 100 -opatient ibc32",
     "fftw_stock_tests_bench_time_rep_" + hashlib.sha1(
         b"fftw-stock/tests/bench  --time-repeat 100 -opatient ibc32").hexdigest()[:8]),
])
def test_slug_rule(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_pts_result_without_direction_is_left_out_with_a_warning(here: Path) -> None:
    _edited("pts/gvno3/composite.xml", "<Arguments>large_random</Arguments>\n"
            "    <Description>Throughput Test: LargeRandom</Description>\n"
            "    <Scale>GB/s</Scale>\n    <Proportion>HIB",
            "<Arguments>large_random</Arguments>\n"
            "    <Description>Throughput Test: LargeRandom</Description>\n"
            "    <Scale>GB/s</Scale>\n    <Proportion>NIB")(here)
    done = run("pts", "edited-composite.xml", "--label", "x", "-o", "out.json")
    assert done.exit_code == 0
    assert done.output.splitlines()[0] == (
        "edited-composite.xml:76:1: warning: left out 'simdjson: Throughput Test: "
        "LargeRandom': its proportion 'NIB' is neither HIB nor LIB, so it has no direction")
    ids = [m["id"] for m in json.loads((here / "out.json").read_text())["metrics"]]
    assert ids == ["pts.simdjson.partial_tweets", "pts.simdjson.kostya",
                   "pts.simdjson.distinct_user_id", "pts.simdjson.top_tweet"]


def test_fio_jobs_of_one_name_and_failed_jobs(here: Path) -> None:
    _edited("fio/two-jobs.json", '"jobname" : "syncwrite"', '"jobname" : "seqread"')(here)
    assert run("fio", "edited-two-jobs.json", "--label", "x", "-o", "dup.json").exit_code == 0
    ids = [m["id"] for m in json.loads((here / "dup.json").read_text())["metrics"]]
    assert ids[0] == "fio.seqread.read.bw" and ids[5] == "fio.seqread_2.write.bw"
    _edited("fio/idle-1.json", '"error" : 0', '"error" : 5')(here)
    assert run("fio", "edited-idle-1.json", "--label", "x", "-o", "err.json").exit_code == 0
    metrics = json.loads((here / "err.json").read_text())["metrics"]
    assert [(m["id"], m["status"], m["error"], m["samples"]) for m in metrics] == [
        (f"fio.r.read.{k}", "failed", "fio job 'r' ended with error 5", [])
        for k in ("bw", "iops", "clat_p50", "clat_p99", "clat_p99_9")]


def test_sigterm_while_writing_leaves_nothing_behind(here: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    stage("fio/idle-1.json", here)
    (here / "out.json").write_text("previous\n")

    def killed(path: Path, name: str) -> None:
        assert path.name.startswith(".out.json.") and path.is_file()  # mid-write
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(results, "load_results", killed)
    done = CliRunner().invoke(main, ["import", "fio", "fio/idle-1.json", "--label", "x",
                                     "-o", "out.json"])
    assert (done.exit_code, done.output) == (143, "reportgen: stopped by signal 15 (SIGTERM)\n")
    assert sorted(p.name for p in here.iterdir()) == ["fio", "out.json"]
    assert (here / "out.json").read_text() == "previous\n"


def test_pts_entry_without_numbers_is_a_failed_metric(here: Path) -> None:
    _edited("pts/gvno3/composite.xml", "<RawString>1.14:1.13:1.14</RawString>",
            "<RawString>PASS</RawString>")(here)
    assert run("pts", "edited-composite.xml", "--label", "x", "-o", "out.json").exit_code == 0
    metrics = {m["id"]: m for m in json.loads((here / "out.json").read_text())["metrics"]}
    kostya = metrics["pts.simdjson.kostya"]
    assert (kostya["status"], kostya["error"], kostya["samples"]) == (
        "failed", ("PTS recorded no numbers for this system (a line graph or a pass/fail "
                  "result?)"), [])
    assert metrics["pts.simdjson.top_tweet"]["samples"] == [1.52, 1.52, 1.51]
