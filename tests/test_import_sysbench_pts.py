"""sysbench and Phoronix Test Suite imports (issue #22): every sysbench generation
(0.4, 0.5, 1.x), logs of several runs, OLTP, --percentile, prefixed and BOM
files; PTS ids that do not depend on the PTS version or the unit.

Expected figures are read from the fixtures by hand; the arithmetic is in the
comments.  Fixture origins: tests/fixtures/import/sysbench/README.md and
tests/fixtures/import/pts/README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.importers import import_files
from reportgen.importers.common import Options
from tests.import_golden import FIXTURES

SB = FIXTURES / "sysbench"
OLD = SB / "old"
Metric = dict[str, Any]
# (id, unit, better, samples; None for a failed metric)
Row = tuple[str, str, str, list[float] | None]


def doc(tool: str, *paths: Path, **options: str | None) -> dict[str, Any]:
    return import_files(tool, list(paths), "x", Options(**options)).doc


def rows(document: dict[str, Any]) -> list[Row]:
    return [(m["id"], m["unit"], m["better"], m["samples"] if m["status"] == "ok" else None)
            for m in document["metrics"]]


def approx(want: list[Row]) -> list[Any]:
    return [(i, u, b, None if s is None else pytest.approx(s, rel=1e-12)) for i, u, b, s in want]


def command(here: Path, tool: str, *args: str) -> tuple[int, str]:
    assert Path.cwd() == here
    done = CliRunner().invoke(main, ["import", tool, *args, "--label", "x", "-o", "out.json"])
    return done.exit_code, done.output


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(here: Path, name: str, text: str) -> Path:
    (here / name).write_text(text, encoding="utf-8")
    return here / name


def copy(here: Path, fixture: Path) -> str:
    """A copy of ``fixture`` in the working directory, so messages name it briefly."""
    (here / fixture.name).write_bytes(fixture.read_bytes())
    return fixture.name


# --- sysbench 0.4 and 0.5 ---------------------------------------------------------

MS = ("ms", "lower")


def test_04_cpu_rate_is_events_over_time() -> None:
    # 0.4 prints no rate: "total number of events: 10000" / "total time: 8.0000s" = 1250
    assert rows(doc("sysbench", OLD / "0.4.12-cpu.txt")) == approx([
        ("sysbench.cpu.t2.events_per_s", "events/s", "higher", [1250.0]),
        ("sysbench.cpu.t2.latency_avg", *MS, [1.60]),  # "avg: 1.60ms"
        ("sysbench.cpu.t2.latency_p95", *MS, [1.71])])  # "approx.  95 percentile: 1.71ms"
    metric = doc("sysbench", OLD / "0.4.12-cpu.txt")["metrics"][0]
    assert metric["params"] == {"test": "cpu", "threads": 2, "prime_limit": "10000"}
    assert metric["tool"] == "sysbench 0.4.12"


def test_04_memory_megabytes_are_mib_and_0_00_ms_fails() -> None:
    assert rows(doc("sysbench", OLD / "0.4.12-memory.txt")) == approx([
        # "1024.00 MB transferred (2048.00 MB/sec)": 0.4's MB is 2^20 bytes, as MiB
        ("sysbench.memory.write.t1.mib_per_s", "MiB/s", "higher", [2048.0]),
        # "Operations performed: 1048576 (2097152.00 ops/sec)"
        ("sysbench.memory.write.t1.ops_per_s", "ops/s", "higher", [2097152.0]),
        ("sysbench.memory.write.t1.latency_avg", *MS, None),  # "avg: 0.00ms"
        ("sysbench.memory.write.t1.latency_p95", *MS, None)])
    assert doc("sysbench", OLD / "0.4.12-memory.txt")["metrics"][0]["params"] == {
        "test": "memory", "threads": 1, "block_size": "1K", "total_size": "1024M",
        "operation": "write", "scope": "global"}


def test_04_fileio_counts_and_sizes_over_time_and_the_prepare_run_skipped() -> None:
    got = doc("sysbench", OLD / "0.4.12-fileio-rndrw.txt")
    # "6000 Read, 4000 Write" and "Read 93.75Mb  Written 62.5Mb" over "total time: 25.0000s"
    assert rows(got) == approx([
        ("sysbench.fileio.rndrw.t1.reads_per_s", "ops/s", "higher", [6000 / 25]),  # 240
        ("sysbench.fileio.rndrw.t1.writes_per_s", "ops/s", "higher", [4000 / 25]),  # 160
        ("sysbench.fileio.rndrw.t1.read_mib_per_s", "MiB/s", "higher", [93.75 / 25]),  # 3.75
        ("sysbench.fileio.rndrw.t1.written_mib_per_s", "MiB/s", "higher", [62.5 / 25]),  # 2.5
        ("sysbench.fileio.rndrw.t1.latency_avg", *MS, [0.21]),
        ("sysbench.fileio.rndrw.t1.latency_p95", *MS, [0.48])])
    assert len(got["rounds"]) == 1  # the prepare command's output is not a run
    # the run's "128 files, 16Mb each", not the prepare line "128 files, 16384Kb each, ..."
    assert got["metrics"][0]["params"] == {
        "test": "fileio", "threads": 1, "files": "128", "file_size": "16Mb",
        "block_size": "16Kb", "open_flags": "0", "rw_ratio": "1.50", "fsync_every": "100",
        "fsync_at_end": "Enabled", "io_mode": "synchronous", "mode": "rndrw"}


def test_04_threads_and_mutex_name_themselves() -> None:
    # no --test needed: 0.4 prints "Doing thread subsystem performance test"
    assert rows(doc("sysbench", OLD / "0.4.12-threads.txt")) == approx([
        ("sysbench.threads.t4.events_per_s", "events/s", "higher", [10000 / 2.5]),  # 4000
        ("sysbench.threads.t4.latency_avg", *MS, [1.00]),
        ("sysbench.threads.t4.latency_p95", *MS, [2.34])])
    assert doc("sysbench", OLD / "0.4.12-threads.txt")["metrics"][0]["params"] == {
        "test": "threads", "threads": 4, "yields": "1000", "locks": "8"}
    assert rows(doc("sysbench", OLD / "0.4.12-mutex.txt")) == approx([
        ("sysbench.mutex.t2.total_time", "s", "lower", [0.125]),  # "total time: 0.1250s"
        ("sysbench.mutex.t2.latency_avg", *MS, [124.0]),
        ("sysbench.mutex.t2.latency_p95", *MS, [124.6])])


def test_04_oltp_is_oltp_not_threads() -> None:
    got = doc("sysbench", OLD / "0.4.12-oltp.txt")
    assert rows(got) == approx([
        # "transactions: 10000  (500.00 per sec.)"
        ("sysbench.oltp.t8.transactions_per_s", "tx/s", "higher", [500.0]),
        # "total: 160000" queries over "total time: 20.0000s" = 8000
        ("sysbench.oltp.t8.queries_per_s", "queries/s", "higher", [160000 / 20]),
        ("sysbench.oltp.t8.latency_avg", *MS, [15.99]),
        ("sysbench.oltp.t8.latency_p95", *MS, [21.56])])
    assert got["metrics"][0]["params"] == {
        "test": "oltp", "threads": 8, "oltp_mode": "mixed", "read_only": "read-only",
        "distribution": "Special"}
    assert len(got["rounds"]) == 1  # "Creating table 'sbtest'..." is not a run


PKB_05 = [
    # "transactions: 10000  (586.29 per sec.)"
    ("sysbench.oltp.t16.transactions_per_s", "tx/s", "higher", [586.29]),
    # queries performed "total: 200000" over "total time: 17.0563s"
    ("sysbench.oltp.t16.queries_per_s", "queries/s", "higher", [200000 / 17.0563]),
    ("sysbench.oltp.t16.latency_avg", *MS, [27.26]),  # response time "avg: 27.26ms"
    ("sysbench.oltp.t16.latency_p99", *MS, [57.15])]  # "approx.  99 percentile: 57.15ms"


def test_05_oltp_with_percentile_99() -> None:
    got = doc("sysbench", OLD / "0.5-oltp-pkb.txt")
    assert rows(got) == approx(PKB_05)
    assert got["metrics"][0]["params"] == {"test": "oltp", "threads": 16}
    assert got["metrics"][0]["tool"] == "sysbench 0.5"


def test_05_oltp_script_named_by_test() -> None:
    got = doc("sysbench", OLD / "0.5-oltp-pkb.txt", test="oltp_read_write")
    assert [m["id"] for m in got["metrics"]] == [
        i.replace(".oltp.", ".oltp_read_write.") for i, *_ in PKB_05]
    assert got["metrics"][0]["params"]["test"] == "oltp_read_write"


@pytest.mark.parametrize("prefix", ["2016-02-11 17:09:32,102 vm0 stdout: ", "    ", "| "])
def test_a_prefix_on_every_line_is_taken_off(here: Path, prefix: str) -> None:
    text = (OLD / "0.5-oltp-pkb.txt").read_text()
    path = write(here, "prefixed.txt", "".join(prefix + line for line in
                                               text.splitlines(keepends=True)))
    assert rows(doc("sysbench", path)) == approx(PKB_05)


def test_a_prefix_on_the_header_only_and_a_byte_order_mark(here: Path) -> None:
    text = (OLD / "0.5-oltp-pkb.txt").read_text()
    path = write(here, "bom.txt", "\ufeff[run 1] " + text)
    assert rows(doc("sysbench", path)) == approx(PKB_05)


def test_oltp_given_a_built_in_test_is_refused(here: Path) -> None:
    assert command(here, "sysbench", copy(here, OLD / "0.5-oltp-pkb.txt"), "--test",
                   "threads") == (
        2, ("0.5-oltp-pkb.txt:1:1: this is the output of a sysbench OLTP test, "
           "not of its threads test (--test)\n"))


# --- refusals --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("sysbench 0.3.5:  multi-threaded system evaluation benchmark\n",
     ("old.txt:1:1: unknown sysbench version '0.3.5': this importer reads the output of "
     "sysbench 0.4, 0.5 and 1.x")),
    ("notes\nsysbench 2.0.0 (using bundled LuaJIT 2.1.0)\n",
     ("old.txt:2:1: unknown sysbench version '2.0.0': this importer reads the output of "
     "sysbench 0.4, 0.5 and 1.x")),
    (("sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)\n\n4 files, 8192Kb each, 32Mb total\n"
     "Creating files for the test...\n"),
     ("old.txt:1:1: no sysbench run in the file, only the output of its prepare or cleanup "
     "commands")),
    (("sysbench 0.4.12:  multi-threaded system evaluation benchmark\n\nRunning the test with "
     "following options:\nNumber of threads: 1\n\nDoing CPU performance benchmark\n"),
     "old.txt:1:1: truncated sysbench output: no 'Test execution summary' section"),
], ids=["0.3", "2.0", "prepare-only", "0.4-truncated"])
def test_refused_with_version_and_reason(here: Path, text: str, message: str) -> None:
    write(here, "old.txt", text)
    assert command(here, "sysbench", "old.txt") == (2, message + "\n")


def test_unknown_test_option(here: Path) -> None:
    assert command(here, "sysbench", copy(here, OLD / "0.4.12-cpu.txt"), "--test",
                   "disk") == (
        2, ("reportgen import: --test: expected one of cpu, memory, fileio, threads, mutex, "
           "oltp, oltp_read_write, oltp_read_only, oltp_write_only, oltp_point_select, "
           "oltp_insert, oltp_delete, oltp_update_index, oltp_update_non_index, "
           "select_random_points, select_random_ranges, bulk_insert; got 'disk'\n"))


# --- Phoronix Test Suite -------------------------------------------------------------

PTS = FIXTURES / "pts"


def test_pts_result_without_options_has_the_same_id_under_pts_5_and_10() -> None:
    v5 = doc("pts", PTS / "v5-no-options" / "composite.xml")
    v10 = doc("pts", PTS / "v10-no-options" / "composite.xml")
    # v5: <Description>Phoronix Test Suite v5.2.1</Description>, <RawString>11.52:11.81:11.83
    assert rows(v5) == [("pts.system_decompress_gzip", "s", "lower", [11.52, 11.81, 11.83])]
    # v10: empty <Description>, <RawString>9.91:9.85:9.86
    assert rows(v10) == [("pts.system_decompress_gzip", "s", "lower", [9.91, 9.85, 9.86])]
    assert v5["metrics"][0]["name"] == v10["metrics"][0]["name"] == "System GZIP Decompression"
    assert v5["metrics"][0]["tool"] == "Phoronix Test Suite 5.2.1"


def test_pts_results_sharing_arguments_are_told_apart_by_description_not_unit() -> None:
    got = doc("pts", PTS / "zstd" / "composite.xml")
    # Arguments "-b3" twice: "... - Compression Speed", "... - Decompression Speed"
    assert rows(got) == [
        ("pts.compress_zstd.b3_compression_speed", "MB/s", "higher", [134.5, 134.7, 134.6]),
        ("pts.compress_zstd.b3_decompression_speed", "MB/s", "higher", [516.2, 515.9, 515.6]),
        ("pts.compress_zstd.b8_long_compression_speed", "MB/s", "higher", [40.1, 40.6, 40.8]),
        ("pts.compress_zstd.b8_long_decompression_speed", "MB/s", "higher",
         [530.9, 529.9, 530.5])]
    assert not [m for m in got["metrics"] if "mb_s" in m["id"] or "phoronix" in m["id"]]


def test_pts_same_tails_fall_back_to_the_whole_description(here: Path) -> None:
    text = (PTS / "zstd" / "composite.xml").read_text()
    text = text.replace("Compression Level: 3 - Decompression Speed",
                        "Level 3 - Compression Speed")
    got = doc("pts", write(here, "composite.xml", text))
    assert [m["id"] for m in got["metrics"]][:2] == [
        "pts.compress_zstd.b3_compression_level_3_compression_speed",
        "pts.compress_zstd.b3_level_3_compression_speed"]


def test_pts_file_without_systems_names_its_version(here: Path) -> None:
    write(here, "composite.xml", '<?xml version="1.0"?>\n<PhoronixTestSuite>\n  <Generated>'
          "<TestClient>Phoronix Test Suite v2.8.1</TestClient></Generated>\n"
          "</PhoronixTestSuite>\n")
    assert command(here, "pts", "composite.xml") == (
        2, ("composite.xml:1:1: not a Phoronix Test Suite result file this importer reads: no "
           "<System> in it (written by Phoronix Test Suite v2.8.1; this importer reads the "
           "result files of PTS 5 and later)\n"))


# --- sysbench 1.x: OLTP, logs of several runs, padding, --percentile -------------------

OLTP_1X = SB / "oltp" / "1.0.20-oltp-read-write.txt"


@pytest.mark.parametrize(("test", "name"), [(None, "oltp"),
                                            ("oltp_read_write", "oltp_read_write")])
def test_1x_oltp_is_transactions_and_queries(test: str | None, name: str) -> None:
    got = doc("sysbench", OLTP_1X, test=test)
    assert rows(got) == approx([
        # "transactions: 278    (137.96 per sec.)", "queries: 5686   (2821.64 per sec.)"
        (f"sysbench.{name}.t2.transactions_per_s", "tx/s", "higher", [137.96]),
        (f"sysbench.{name}.t2.queries_per_s", "queries/s", "higher", [2821.64]),
        (f"sysbench.{name}.t2.latency_avg", *MS, [14.46]),
        (f"sysbench.{name}.t2.latency_p95", *MS, [30.26])])
    assert got["metrics"][0]["params"] == {"test": name, "threads": 2}
    assert len(got["rounds"]) == 1  # the prepare command's "Creating table" run is skipped


SIX = SB / "cpu-six-runs.txt"
# cpu-six-runs.txt, runs at lines 1, 32, 63, 94, 125, 156: "events per second", "avg",
# "95th percentile" of each
SIX_EVENTS = [1569.56, 1446.73, 1660.69, 2005.63, 1954.21, 2022.04]
SIX_AVG = [0.61, 0.69, 0.60, 0.50, 0.51, 0.49]
SIX_P95 = [4.25, 4.25, 4.25, 3.96, 4.25, 4.25]


def test_a_log_of_six_alike_runs_is_six_rounds(here: Path) -> None:
    assert command(here, "sysbench", copy(here, SIX)) == (
        0, "wrote out.json: 3 metric(s), 6 round(s), label 'x'\n")
    got = doc("sysbench", SIX)
    assert rows(got) == approx([
        ("sysbench.cpu.t1.events_per_s", "events/s", "higher", SIX_EVENTS),
        ("sysbench.cpu.t1.latency_avg", *MS, SIX_AVG),
        ("sysbench.cpu.t1.latency_p95", *MS, SIX_P95)])
    assert [m["sample_rounds"] for m in got["metrics"]] == [[1, 2, 3, 4, 5, 6]] * 3


def test_six_runs_with_a_prefix_on_every_line(here: Path) -> None:
    text = SIX.read_text()
    path = write(here, "pkb.txt", "".join("vm0 stdout: " + line
                                          for line in text.splitlines(keepends=True)))
    assert rows(doc("sysbench", path))[0] == (
        "sysbench.cpu.t1.events_per_s", "events/s", "higher", pytest.approx(SIX_EVENTS))


def test_a_run_unlike_the_first_is_refused_at_its_header(here: Path) -> None:
    # memory-then-cpu.txt: a memory run (line 1), then a cpu run (line 38)
    assert command(here, "sysbench", copy(here, SB / "memory-then-cpu.txt")) == (
        2, ("memory-then-cpu.txt:38:1: this run differs from the file's first run "
           "(line 1) in test: 'cpu' here, 'memory' there; the runs of one file are rounds of "
           "the same test and options: put the others in files of their own\n"))
    # the fourth run of six (header on line 94) edited to two threads
    lines = SIX.read_text().split("\n")
    assert lines[93].startswith("sysbench 1.0.20") and lines[96] == "Number of threads: 1"
    lines[96] = "Number of threads: 2"
    write(here, "edited.txt", "\n".join(lines))
    assert command(here, "sysbench", "edited.txt") == (
        2, ("edited.txt:94:1: this run differs from the file's first run (line 1) in threads: "
           "'2' here, '1' there; the runs of one file are rounds of the same test and options: "
           "put the others in files of their own\n"))


def test_a_run_cut_short_is_refused_at_its_header(here: Path) -> None:
    write(here, "cut.txt", "\n".join(SIX.read_text().split("\n")[:40]))
    assert command(here, "sysbench", "cut.txt") == (
        2, "cut.txt:32:1: truncated sysbench output: no 'General statistics' section\n")


def test_a_padded_rate_is_read() -> None:
    # "Total operations: 64 (  578.94 per second)", "1024.00 MiB transferred (9263.03 MiB/sec)"
    got = doc("sysbench", SB / "memory-padded.txt")
    assert rows(got) == approx([
        ("sysbench.memory.write.t1.mib_per_s", "MiB/s", "higher", [9263.03]),
        ("sysbench.memory.write.t1.ops_per_s", "ops/s", "higher", [578.94]),
        ("sysbench.memory.write.t1.latency_avg", *MS, [1.70]),
        ("sysbench.memory.write.t1.latency_p95", *MS, [5.09])])
    assert got["metrics"][0]["params"]["block_size"] == "16384KiB"


def test_percentile_99_and_0() -> None:
    # --percentile=99: "99th percentile: 8.28"
    assert rows(doc("sysbench", SB / "cpu-p99.txt")) == approx([
        ("sysbench.cpu.t1.events_per_s", "events/s", "higher", [1772.18]),
        ("sysbench.cpu.t1.latency_avg", *MS, [0.56]),
        ("sysbench.cpu.t1.latency_p99", *MS, [8.28])])
    # --percentile=0: "percentile stats: disabled", so no percentile metric
    assert rows(doc("sysbench", SB / "cpu-p0.txt")) == approx([
        ("sysbench.cpu.t1.events_per_s", "events/s", "higher", [1687.59]),
        ("sysbench.cpu.t1.latency_avg", *MS, [0.59])])


def test_fileio_logged_with_its_prepare_pools_with_one_logged_without() -> None:
    got = doc("sysbench", SB / "fileio-prepare-run.txt", SB / "fileio-run.txt")
    # prepare-run: writes/s 8191.33, fsyncs/s 164.81, written 127.99, avg 0.12, p95 0.01;
    # run: 10114.75, 204.28, 158.04, 0.10, 0.01 (reads and read MiB/s are 0.00: left out)
    assert rows(got) == approx([
        ("sysbench.fileio.seqwr.t1.writes_per_s", "ops/s", "higher", [8191.33, 10114.75]),
        ("sysbench.fileio.seqwr.t1.fsyncs_per_s", "ops/s", "higher", [164.81, 204.28]),
        ("sysbench.fileio.seqwr.t1.written_mib_per_s", "MiB/s", "higher", [127.99, 158.04]),
        ("sysbench.fileio.seqwr.t1.latency_avg", *MS, [0.12, 0.10]),
        ("sysbench.fileio.seqwr.t1.latency_p95", *MS, [0.01, 0.01])])
    # the run's "2 files, 4MiB each", not the prepare's "2 files, 4096Kb each, 8Mb total"
    assert got["metrics"][0]["params"]["file_size"] == "4MiB"
