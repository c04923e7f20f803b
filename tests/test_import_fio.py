"""fio outputs as people have them (issue #22): each version's JSON layout, the
output options that put more than one JSON document or other text in the
file, unified read/write reporting, and the settings that keep unlike runs
apart.  Every expected figure is worked out here from the fixture's text (the
comment beside it quotes the line), not taken from the importer."""

from __future__ import annotations

import json
import shutil
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
