"""Each importer's figures against the source file itself (issue #18, point 4).

Every test here runs the importer (:func:`reportgen.importers.import_files`) on
real fixtures and compares each metric's id, unit, direction and samples with
what the test reads from the same fixture on its own: fio and hyperfine JSON
with :mod:`json`, sysbench text with a regular expression for the one line
that holds the figure, PTS result files with :mod:`xml.etree`.  None of them
reads tests/fixtures/import/expected/: those files are checked on their own in
test_import_goldens.py.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reportgen.importers import import_files
from reportgen.importers.common import Options
from tests.import_golden import FIXTURES, stage

Metrics = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Want:
    """A metric as the test expects it; ``samples`` None: a failed metric."""

    id: str
    unit: str
    better: str
    samples: list[float] | None


def imported(tool: str, *relative: str, **options: str | None) -> Metrics:
    """The metrics the importer returns for fixtures ``relative`` (in file order)."""
    done = import_files(tool, [FIXTURES / r for r in relative], "x", Options(**options))
    return {m["id"]: m for m in done.doc["metrics"]}


def check(metrics: Metrics, want: list[Want]) -> None:
    assert list(metrics) == [w.id for w in want]
    for w in want:
        got = metrics[w.id]
        assert (got["unit"], got["better"]) == (w.unit, w.better), w.id
        if w.samples is None:
            assert (got["status"], got["samples"]) == ("failed", []), w.id
        else:
            assert got["status"] == "ok", w.id
            assert got["samples"] == pytest.approx(w.samples, rel=1e-12), w.id


# --- fio -------------------------------------------------------------------------

FIO_FILES = ["fio/idle-1.json", "fio/busy-3.json", "fio/two-jobs.json"]
MIB = 1048576  # bytes/s -> MiB/s: divide by 2**20 (docs/import.md: byte rates in MiB/s)
# fio's percentile keys, by the id part each becomes; fio prints more, only these are kept
FIO_PERCENTILES = {"clat_p50": "50.000000", "clat_p99": "99.000000",
                   "clat_p99_9": "99.900000"}


def fio_wanted(relative: str) -> list[Want]:
    data = json.loads((FIXTURES / relative).read_text())
    want: list[Want] = []
    for job in data["jobs"]:
        name = job["jobname"]
        assert re.fullmatch(r"[a-z0-9_]+", name)  # already an id part: slugging keeps it
        assert job["error"] == 0
        for direction in ("read", "write", "trim"):
            stats = job[direction]
            if stats["io_bytes"] == 0:
                continue  # the job moved no bytes this way: no metrics for it
            base = f"fio.{name}.{direction}"
            want.append(Want(f"{base}.bw", "MiB/s", "higher", [stats["bw_bytes"] / MIB]))
            want.append(Want(f"{base}.iops", "IO/s", "higher", [stats["iops"]]))
            percentiles = stats["clat_ns"]["percentile"]
            for part, key in FIO_PERCENTILES.items():
                # completion latency (clat, not lat or slat), ns -> us: divide by 1000
                want.append(Want(f"{base}.{part}", "us", "lower", [percentiles[key] / 1000]))
    return want


@pytest.mark.parametrize("relative", FIO_FILES)
def test_fio_figures_are_the_files(relative: str) -> None:
    check(imported("fio", relative), fio_wanted(relative))


def test_fio_figures_by_hand() -> None:
    """The same, with the numbers copied from the files."""
    idle = imported("fio", "fio/idle-1.json")
    # idle-1.json, job "r", "read": "bw_bytes" : 73111074, "iops" : 17849.383539,
    # clat_ns percentiles "50.000000" : 55552, "99.000000" : 83456, "99.900000" : 228352
    assert [s for m in idle.values() for s in m["samples"]] == pytest.approx(
        [73111074 / 1048576, 17849.383539, 55.552, 83.456, 228.352])
    assert idle["fio.r.read.bw"]["samples"][0] == pytest.approx(69.72415, rel=1e-6)
    two = imported("fio", "fio/two-jobs.json")
    # two-jobs.json: "seqread" only reads, "syncwrite" only writes
    assert list(two) == [f"fio.{job}.{figure}" for job in ("seqread.read", "syncwrite.write")
                         for figure in ("bw", "iops", "clat_p50", "clat_p99", "clat_p99_9")]
    # syncwrite "write": "bw_bytes" : 21736215, "iops" : 5306.693307, clat 2416/9536/46336 ns
    assert [s for m in list(two.values())[5:] for s in m["samples"]] == pytest.approx(
        [21736215 / 1048576, 5306.693307, 2.416, 9.536, 46.336])
    assert two["fio.syncwrite.write.bw"]["samples"][0] == pytest.approx(20.72927, rel=1e-6)


def test_fio_runs_pooled_are_rounds_in_the_order_they_ran() -> None:
    """Five files given out of order: sample k is the bandwidth of the k-th run to
    start (fio's "timestamp", when it wrote the report, less the job's "elapsed")."""
    given = [f"fio/idle-{n}.json" for n in (3, 5, 1, 4, 2)]
    runs = [json.loads((FIXTURES / r).read_text()) for r in given]
    ran = sorted(runs, key=lambda d: d["timestamp"] - d["jobs"][0]["elapsed"])
    bw = imported("fio", *given)["fio.r.read.bw"]
    assert bw["samples"] == pytest.approx([d["jobs"][0]["read"]["bw_bytes"] / MIB
                                           for d in ran], rel=1e-12)
    assert bw["sample_rounds"] == [1, 2, 3, 4, 5]


# --- sysbench ----------------------------------------------------------------------

def line(pattern: str) -> Callable[[str], float]:
    """The number in group 1 of the one line of the text that ``pattern`` matches."""
    def read(text: str) -> float:
        found = re.findall(pattern, text, re.MULTILINE)
        assert len(found) == 1, (pattern, found)
        return float(found[0])
    return read


EVENTS_PER_S = line(r"^\s+events per second:\s+([\d.]+)$")
LATENCY_AVG = line(r"^\s+avg:\s+([\d.]+)$")  # in the "Latency (ms):" block
LATENCY_P95 = line(r"^\s+95th percentile:\s+([\d.]+)$")
TOTAL_TIME = line(r"^\s+total time:\s+([\d.]+)s$")
TOTAL_EVENTS = line(r"^\s+total number of events:\s+(\d+)$")
THREADS = line(r"^Number of threads: (\d+)$")

# One row a metric: (id part, unit, better, what the file says, how the test reads it).
# A latency printed as 0.00 is under sysbench's 0.01 ms resolution: the metric is
# failed, with no sample.
Row = tuple[str, str, str, float, Callable[[str], float]]


def latency(avg: float, p95: float) -> list[Row]:
    return [("latency_avg", "ms", "lower", avg, LATENCY_AVG),
            ("latency_p95", "ms", "lower", p95, LATENCY_P95)]


SYSBENCH: dict[str, tuple[str | None, str, list[Row]]] = {
    # file: (--test, id prefix, rows); threads and mutex print nothing that names the test
    "sysbench/cpu-idle-1.txt": (None, "sysbench.cpu", [
        ("events_per_s", "events/s", "higher", 3395.86, EVENTS_PER_S), *latency(0.29, 0.27)]),
    "sysbench/cpu-busy-2.txt": (None, "sysbench.cpu", [
        ("events_per_s", "events/s", "higher", 733.65, EVENTS_PER_S), *latency(1.36, 12.30)]),
    "sysbench/memory-write.txt": (None, "sysbench.memory.write", [
        ("mib_per_s", "MiB/s", "higher", 7414.02,
         line(r"^[\d.]+ MiB transferred \(([\d.]+) MiB/sec\)$")),
        ("ops_per_s", "ops/s", "higher", 7591955.79,
         line(r"^Total operations: \d+ \(([\d.]+) per second\)$")),
        *latency(0.00, 0.00)]),
    "sysbench/fileio-rndrw.txt": (None, "sysbench.fileio.rndrw", [
        ("reads_per_s", "ops/s", "higher", 27738.48, line(r"^\s+reads/s:\s+([\d.]+)$")),
        ("writes_per_s", "ops/s", "higher", 18492.32, line(r"^\s+writes/s:\s+([\d.]+)$")),
        ("fsyncs_per_s", "ops/s", "higher", 1849.73, line(r"^\s+fsyncs/s:\s+([\d.]+)$")),
        ("read_mib_per_s", "MiB/s", "higher", 433.41,
         line(r"^\s+read, MiB/s:\s+([\d.]+)$")),
        ("written_mib_per_s", "MiB/s", "higher", 288.94,
         line(r"^\s+written, MiB/s:\s+([\d.]+)$")),
        *latency(0.02, 0.00)]),
    # threads prints only totals: the rate is total number of events / total time
    "sysbench/threads.txt": ("threads", "sysbench.threads", [
        ("events_per_s", "events/s", "higher", 2424 / 1.0002,
         lambda text: TOTAL_EVENTS(text) / TOTAL_TIME(text)),
        *latency(0.41, 0.48)]),
    "sysbench/mutex.txt": ("mutex", "sysbench.mutex", [
        ("total_time", "s", "lower", 0.1276, TOTAL_TIME), *latency(127.47, 127.81)]),
}


@pytest.mark.parametrize("relative", list(SYSBENCH))
def test_sysbench_figures_are_the_files(relative: str) -> None:
    test, prefix, rows = SYSBENCH[relative]
    text = (FIXTURES / relative).read_text()
    threads = int(THREADS(text))
    assert threads == 1  # every fixture ran one thread: ids end in .t1
    want = []
    for part, unit, better, says, read in rows:
        assert read(text) == pytest.approx(says, rel=1e-12), part  # the file says so
        want.append(Want(f"{prefix}.t{threads}.{part}", unit, better,
                         [says] if says > 0 else None))
    check(imported("sysbench", relative, test=test), want)


# --- hyperfine ---------------------------------------------------------------------

HYPERFINE_FILES = ["hyperfine/idle-1.json", "hyperfine/busy-4.json", "hyperfine/scan.json"]
# The exported "command", and the id its slug gives
HYPERFINE_IDS = {
    "gzip -6 -c /usr/bin/fio > /dev/null": "hyperfine.gzip_6_c_usr_bin_fio_dev_null.wall",
    "python3 -c pass": "hyperfine.python3_c_pass.wall",
    "gzip -1 -c /usr/bin/fio > /dev/null": "hyperfine.gzip_1_c_usr_bin_fio_dev_null.wall",
    "gzip -2 -c /usr/bin/fio > /dev/null": "hyperfine.gzip_2_c_usr_bin_fio_dev_null.wall",
}


@pytest.mark.parametrize("relative", HYPERFINE_FILES)
def test_hyperfine_samples_are_every_time(relative: str) -> None:
    results = json.loads((FIXTURES / relative).read_text())["results"]
    # every run's wall time, in the seconds hyperfine exports, not its mean or median
    want = [Want(HYPERFINE_IDS[r["command"]], "s", "lower", r["times"]) for r in results]
    metrics = imported("hyperfine", relative)
    check(metrics, want)
    for r in results:
        assert metrics[HYPERFINE_IDS[r["command"]]]["params"] == {
            "command": r["command"], **({"parameters": r["parameters"]}
                                        if "parameters" in r else {}),
            "shell": "default"}  # no --shell given: hyperfine's default shell


def test_hyperfine_samples_by_hand() -> None:
    idle = imported("hyperfine", "hyperfine/idle-1.json")
    gzip = idle["hyperfine.gzip_6_c_usr_bin_fio_dev_null.wall"]["samples"]
    # idle-1.json: --runs 10; "times" starts 0.09862336262, 0.10621778562, 0.09387684962...
    assert len(gzip) == 10 and gzip[:2] == [0.09862336262, 0.10621778562]
    scan = imported("hyperfine", "hyperfine/scan.json")
    # scan.json: "gzip -1 ..." "times": [0.017061754300000002, 0.017238518300000002,
    # 0.0168196933], "parameters": {"level": "1"}
    level1 = scan["hyperfine.gzip_1_c_usr_bin_fio_dev_null.wall"]
    assert level1["samples"] == pytest.approx([0.0170617543, 0.0172385183, 0.0168196933])
    assert level1["params"]["parameters"] == {"level": "1"}


def test_hyperfine_runs_pooled_keep_each_files_times(tmp_path: Path) -> None:
    """Rounds follow the files' modification times (their text has no time)."""
    given = [f"hyperfine/busy-{n}.json" for n in (2, 1)]
    paths = [stage(r, tmp_path) for r in given]  # with the mtimes they were written at
    done = import_files("hyperfine", paths, "x", Options())
    pooled = {m["id"]: m for m in done.doc["metrics"]}["hyperfine.python3_c_pass.wall"]
    ran = [json.loads((FIXTURES / f"hyperfine/busy-{n}.json").read_text())["results"][1]
           for n in (1, 2)]
    assert all(r["command"] == "python3 -c pass" for r in ran)
    assert pooled["samples"] == ran[0]["times"] + ran[1]["times"]
    assert pooled["sample_rounds"] == [1] * len(ran[0]["times"]) + [2] * len(ran[1]["times"])


# --- Phoronix Test Suite -----------------------------------------------------------

PTS_FILES = ["pts/gvno3/composite.xml", "pts/nogvno3/composite.xml"]
PTS_BETTER = {"HIB": "higher", "LIB": "lower"}


def pts_wanted(relative: str) -> list[Want]:
    root = ET.parse(FIXTURES / relative).getroot()
    (system,) = [s.findtext("Identifier") for s in root.iter("System")]
    want: list[Want] = []
    for result in root.iter("Result"):
        profile = result.findtext("Identifier") or ""
        if not profile:
            continue  # PTS's own test install time and size: not benchmarks
        assert profile == "pts/simdjson-2.0.1"  # the id keeps "simdjson": no namespace, version
        arguments = result.findtext("Arguments") or ""
        assert re.fullmatch(r"[a-z0-9_]+", arguments)  # already an id part
        (entry,) = [e for e in result.iter("Entry") if e.findtext("Identifier") == system]
        raw = entry.findtext("RawString") or ""
        # samples: every run of the RawString "a:b:c", not the entry's Value (their mean)
        want.append(Want(f"pts.simdjson.{arguments}", result.findtext("Scale") or "",
                         PTS_BETTER[result.findtext("Proportion") or ""],
                         [float(v) for v in raw.split(":")]))
    return want


@pytest.mark.parametrize("relative", PTS_FILES)
def test_pts_samples_are_the_raw_runs(relative: str) -> None:
    want = pts_wanted(relative)
    assert len(want) == 5 and {w.unit for w in want} == {"GB/s"}  # a scale kept as written
    check(imported("pts", relative), want)


def test_pts_samples_by_hand() -> None:
    gvno3 = imported("pts", "pts/gvno3/composite.xml")
    # gvno3: kostya <RawString>1.14:1.13:1.14</RawString>, <Scale>GB/s, <Proportion>HIB
    kostya = gvno3["pts.simdjson.kostya"]
    assert (kostya["unit"], kostya["better"], kostya["samples"]) == (
        "GB/s", "higher", [1.14, 1.13, 1.14])
    nogvno3 = imported("pts", "pts/nogvno3/composite.xml")
    # nogvno3: large_random <Value>0.42</Value> <RawString>0.43:0.42:0.42</RawString>
    assert nogvno3["pts.simdjson.large_random"]["samples"] == [0.43, 0.42, 0.42]
