"""fio outputs as people have them (issue #22): each version's JSON layout, the
output options that put more than one JSON document or other text in the
file, unified read/write reporting, and the settings that keep unlike runs
apart.  Every expected figure is worked out here from the fixture's text (the
comment beside it quotes the line), not taken from the importer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reportgen.analyse.analysis import analyse
from reportgen.cli import main
from reportgen.importers import import_files
from reportgen.importers.common import Options
from reportgen.read import report_yml
from tests.import_golden import FIXTURES, stage

FIO = FIXTURES / "fio"
FIGURES = ("bw", "iops", "clat_p50", "clat_p99", "clat_p99_9")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", *(str(a) for a in args)],
                              catch_exceptions=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def metrics(*relative: str) -> dict[str, dict[str, Any]]:
    done = import_files("fio", [FIXTURES / r for r in relative], "x", Options())
    return {m["id"]: m for m in done.doc["metrics"]}


def samples(found: dict[str, dict[str, Any]], prefix: str) -> list[float]:
    """The first sample of each figure of ``prefix`` (a job's direction), in order."""
    return [found[f"{prefix}.{f}"]["samples"][0] for f in FIGURES]


# --- each version's layout ----------------------------------------------------------

def test_fio_3_1_bandwidth_from_kib_only() -> None:
    """fio 3.1 writes "bw" in KiB/s and no "bw_bytes" (fio 3.2 added it)."""
    found = metrics("fio/v3.1-write.json")
    # job "test", rw=write: "read" and "trim" moved no bytes ("io_bytes" : 0)
    assert list(found) == [f"fio.test.write.{f}" for f in FIGURES]
    # "write": "bw" : 1753471 (KiB/s) -> 1753471 / 1024 = 1712.3740234375 MiB/s;
    # "iops" : 438367.892977; "clat_ns" percentiles "50.000000" : 1816,
    # "99.000000" : 6176, "99.900000" : 11328 (ns) -> 1.816, 6.176, 11.328 us
    assert samples(found, "fio.test.write") == pytest.approx(
        [1712.3740234375, 438367.892977, 1.816, 6.176, 11.328], rel=1e-12)
    assert all(m["status"] == "ok" and m["tool"] == "fio 3.1" for m in found.values())
    # "job options": ioengine sync, size 1073741824, iodepth 4, bs 4096, rw write;
    # the others are fio's defaults
    assert found["fio.test.write.bw"]["params"] == {
        "rw": "write", "rwmixread": "50", "bs": "4096", "iodepth": "4", "numjobs": "1",
        "ioengine": "sync", "direct": "0", "fsync": "0", "fdatasync": "0",
        "size": "1073741824"}


def test_fio_2_1_latency_in_us_and_no_options(here: Path) -> None:
    """fio 2.1.11: "clat" in microseconds, no "timestamp", no "job options"."""
    stage("fio/v2.1.11-randread.json", here)
    done = run("fio", "fio/v2.1.11-randread.json", "--label", "old", "-o", "out.json")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == (
        "fio/v2.1.11-randread.json:2:1: warning: fio 2.1.11 JSON does not record the jobs' "
        "options (fio 2.3 and later do), so runs of other settings (rw, bs, iodepth...) "
        "cannot be told apart: import together only runs of one job file")
    doc = json.loads((here / "out.json").read_text())
    found = {m["id"]: m for m in doc["metrics"]}
    # four jobs named "random-read" (numjobs=4 without group_reporting), reads only
    jobs = ["random_read", "random_read_2", "random_read_3", "random_read_4"]
    assert list(found) == [f"fio.{j}.read.{f}" for j in jobs for f in FIGURES]
    # each "read": "bw" : 21 (KiB/s) -> 21 / 1024 = 0.0205078125 MiB/s, "iops" : 5,
    # "clat" percentiles already in us: 50% 243; 99% 506, 510, 510, 510;
    # 99.9% 812, 972, 844, 844
    p99 = (506, 510, 510, 510)
    p999 = (812, 972, 844, 844)
    for job, high, higher in zip(jobs, p99, p999):
        assert samples(found, f"fio.{job}.read") == pytest.approx(
            [0.0205078125, 5, 243, high, higher], rel=1e-12)
    assert found["fio.random_read.read.bw"]["params"] == {
        "options": "not recorded by fio before 2.3"}
    # no "timestamp" before fio 2.2.5: the round started at the file's mtime
    assert doc["rounds"] == [{"round": 1, "started_at": "2015-10-15T14:48:58Z"}]


def test_fio_2_0_percentile_keys_with_two_decimals(here: Path) -> None:
    """fio 2.0.10 to 2.0.13 print percentile keys with "%2.2f" ("99.90"; stat.c
    of fio-2.0.10), later ones with "%f" ("99.900000").  Written from that source:
    the 2.1.11 fixture with its version and keys printed the older way."""
    text = (FIO / "v2.1.11-randread.json").read_text().replace("fio-2.1.11", "fio-2.0.13")
    for key in ("50", "99", "99.9"):
        text = text.replace(f'"{float(key):f}"', f'"{float(key):2.2f}"')
    (here / "old.json").write_text(text)
    done = import_files("fio", [here / "old.json"], "x", Options())
    found = {m["id"]: m for m in done.doc["metrics"]}
    assert samples(found, "fio.random_read.read") == pytest.approx(
        [21 / 1024, 5, 243, 506, 812], rel=1e-12)


# --- output options -----------------------------------------------------------------

@pytest.mark.parametrize(("relative", "direction", "figures"), [
    # --output-format=json,normal: four lines of notes, the JSON, then the normal
    # report.  "read": "bw_bytes" : 48370445 -> 48370445 / 2**20 = 46.1296... MiB/s,
    # "iops" : 11809.190809, clat_ns 51968 / 1073152 / 4112384 ns
    ("fio/json-normal.out", "read",
     [48370445 / 2**20, 11809.190809, 51.968, 1073.152, 4112.384]),
    # --status-interval=1: four documents, each the totals so far; the last
    # ("elapsed" : 4) is the result: "bw_bytes" : 61415464 -> 58.5703... MiB/s,
    # "iops" : 14994.009983, clat_ns 46336 / 116224 / 4046848 ns (the first
    # document's "bw_bytes" : 54474459 is not used)
    ("fio/status-interval.json", "read",
     [61415464 / 2**20, 14994.009983, 46.336, 116.224, 4046.848]),
    # both: a JSON document and a normal report each second, then the last of
    # each when the job ends.  The last document ("elapsed" : 3): "bw_bytes" :
    # 21146648 -> 20.1670... MiB/s, "iops" : 5162.755866, clat_ns 68096 / 4014080 /
    # 9371648 ns (the first document's "bw_bytes" : 19808344 is not used)
    ("fio/status-interval-normal.out", "read",
     [21146648 / 2**20, 5162.755866, 68.096, 4014.08, 9371.648]),
    # --unified_rw_reporting=1: one "mixed" section for reads and writes:
    # "bw_bytes" : 53730845 -> 51.2417... MiB/s, "iops" : 13117.882118,
    # clat_ns 15936 / 309248 / 4358144 ns
    ("fio/unified.json", "mixed",
     [53730845 / 2**20, 13117.882118, 15.936, 309.248, 4358.144]),
    # --output-format=json+: the same figures plus "bins" (histograms), ignored:
    # "bw_bytes" : 49753510 -> 47.4486... MiB/s, "iops" : 12146.853147,
    # clat_ns 49920 / 626688 / 4947968 ns
    ("fio/json-plus.json", "read",
     [49753510 / 2**20, 12146.853147, 49.92, 626.688, 4947.968]),
])
def test_fio_output_options(relative: str, direction: str, figures: list[float]) -> None:
    found = metrics(relative)
    job = json.loads(_last_document(relative))["jobs"][0]["jobname"]
    assert list(found) == [f"fio.{job}.{direction}.{f}" for f in FIGURES]
    assert samples(found, f"fio.{job}.{direction}") == pytest.approx(figures, rel=1e-12)
    assert [m["unit"] for m in found.values()] == ["MiB/s", "IO/s", "us", "us", "us"]


def _last_document(relative: str) -> str:
    """The text of the file's last JSON document, found by its first line."""
    text = (FIXTURES / relative).read_text()
    start = text.rindex('{\n  "fio version"')
    return text[start:text.index("\n}\n", start) + 2]


def test_status_interval_stream_cut_short_is_truncated(here: Path) -> None:
    """A stream cut inside its last document: the earlier ones are not results."""
    text = (FIO / "status-interval.json").read_text()
    cut = text[:text.rindex('{\n  "fio version"') + 200]
    (here / "cut.json").write_text(cut)
    lines = cut.split("\n")
    done = run("fio", "cut.json", "--label", "x", "-o", "out.json")
    assert (done.exit_code, done.output) == (
        2, (f"cut.json:{len(lines)}:{len(lines[-1]) + 1}: truncated fio JSON output: the file "
           "ends inside the JSON\n"))


# --- the settings that keep unlike runs apart ----------------------------------------

def test_rwmixread_70_and_30_read_and_params() -> None:
    mix70, mix30 = metrics("fio/mix70.json"), metrics("fio/mix30.json")
    # mix70.json "read": "bw_bytes" : 40378949, "write": "bw_bytes" : 17406977
    # mix30.json "read": "bw_bytes" : 26057270, "write": "bw_bytes" : 60965338
    assert mix70["fio.mix.read.bw"]["samples"] == pytest.approx([40378949 / 2**20])
    assert mix70["fio.mix.write.bw"]["samples"] == pytest.approx([17406977 / 2**20])
    assert mix30["fio.mix.read.bw"]["samples"] == pytest.approx([26057270 / 2**20])
    assert mix30["fio.mix.write.bw"]["samples"] == pytest.approx([60965338 / 2**20])
    # "job options": rw randrw, rwmixread 70 (30), bs 4k, size 16M, runtime 1
    assert mix70["fio.mix.read.bw"]["params"] == {
        "rw": "randrw", "rwmixread": "70", "bs": "4k", "iodepth": "1", "numjobs": "1",
        "ioengine": "psync", "direct": "0", "fsync": "0", "fdatasync": "0", "size": "16M",
        "runtime": "1"}
    assert mix30["fio.mix.read.bw"]["params"]["rwmixread"] == "30"


def test_rwmixread_70_and_30_refuse_to_pool(here: Path) -> None:
    stage("fio/mix70.json", here)
    stage("fio/mix30.json", here)
    done = run("fio", "fio/mix70.json", "fio/mix30.json", "--label", "x", "-o", "out.json")
    assert done.exit_code == 2
    assert done.output.startswith(
        "fio/mix70.json, fio/mix30.json: cannot be pooled as rounds of one environment: "
        "metric 'fio.mix.read.bw' was measured with a different params ({'rw': 'randrw', "
        "'rwmixread': '70', ")
    assert "'rwmixread': '30'" in done.output
    assert not (here / "out.json").exists()


def test_psync_and_mmap_refuse_to_pool(here: Path) -> None:
    """The same job run with ioengine=mmap: fio writes it under "job options"."""
    stage("fio/mix70.json", here)
    text = (FIO / "mix70.json").read_text()
    assert text.count('"rwmixread" : "70",') == 1
    (here / "mmap.json").write_text(text.replace(
        '"rwmixread" : "70",', '"rwmixread" : "70",\n        "ioengine" : "mmap",'))
    done = run("fio", "fio/mix70.json", "mmap.json", "--label", "x", "-o", "out.json")
    assert done.exit_code == 2
    assert "'ioengine': 'psync'" in done.output and "'ioengine': 'mmap'" in done.output
    assert done.output.startswith("fio/mix70.json, mmap.json: cannot be pooled as rounds of "
                                  "one environment: metric 'fio.mix.read.bw' was measured "
                                  "with a different params")


def test_rwmixwrite_counts_as_rwmixread(here: Path) -> None:
    text = (FIO / "mix70.json").read_text()
    assert text.count('"rwmixread" : "70"') == 1
    (here / "w.json").write_text(text.replace('"rwmixread" : "70"', '"rwmixwrite" : "30"'))
    done = import_files("fio", [here / "w.json"], "x", Options())
    assert done.doc["metrics"][0]["params"]["rwmixread"] == "70"


def test_rwmixread_70_and_30_are_not_comparable_in_one_report(here: Path) -> None:
    (here / "site.yml").write_text("title: t\nreports: reports/*\nformats: [txt]\n")
    for name in ("mix70", "mix30"):
        stage(f"fio/{name}.json", here)
        done = run("fio", f"fio/{name}.json", "--label", name, "-o", f"{name}.json")
        assert done.exit_code == 0, done.output
    made = CliRunner().invoke(main, ["new", "reports/r", "--results", "mix70.json",
                                     "mix30.json", "--date", "2026-12-07"])
    assert made.exit_code == 0, made.output
    built = CliRunner().invoke(main, ["build", "--formats", "txt"])
    assert built.exit_code == 0, built.output
    report = analyse(report_yml.load_report(here / "reports" / "r").report)
    compared = {m.id: m.measurements[1].comparison for s in report.sections for m in s.metrics}
    assert set(compared) == {f"fio.mix.{d}.{f}" for d in ("read", "write") for f in FIGURES}
    for comparison in compared.values():
        assert comparison is not None and comparison.label == "not comparable"
        assert comparison.reason == "rwmixread 70 vs 30 (results/mix70.json vs results/mix30.json)"
    text = " ".join((here / "output" / "r" / "report.txt").read_text().split())
    assert "not comparable" in text
    assert "rwmixread 70 vs 30 (results/mix70.json vs results/mix30.json)" in text


# --- refusals -------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "old", "new", "message"), [
    # fio --client writes "client_stats" where a local run writes "jobs"
    ("idle-1.json", '"jobs" :', '"client_stats" :',
     ("6:1: fio 3.33 --client output is not read: run fio on the machine it measures and "
     "import that JSON")),
    ("unified.json", '"mixed" :', '"other" :',
     ("8:1: truncated fio JSON output: job 'u' has no \"read\", \"write\" or \"mixed\" "
     "figures")),
], ids=["client", "no-figures"])
def test_refused_by_name(here: Path, source: str, old: str, new: str, message: str) -> None:
    (here / "odd.json").write_text((FIO / source).read_text().replace(old, new))
    done = run("fio", "odd.json", "--label", "x", "-o", "out.json")
    assert (done.exit_code, done.output) == (2, f"odd.json:{message}\n")
