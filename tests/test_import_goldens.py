"""The expected imports in tests/fixtures/import/expected/ checked on their own.

test_import.py passes when the importer writes exactly these files, and
`make golden` rewrites them from whatever the importer does, so a wrong
importer would write a wrong golden that passes.  These checks hold the files
to the fixtures instead: each is a valid results file, and every sample in it
is a figure of the source file its round came from (after the unit
conversions of docs/import.md).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import reportgen
from tests.import_golden import CASES, EXPECTED, FIXTURES, MTIMES, Case

SCHEMA = Path(reportgen.__file__).parent / "read" / "schemas" / "results.schema.json"
CASE_IDS = [c.name for c in CASES]
Doc = dict[str, Any]


def golden(case: Case) -> Doc:
    loaded: Doc = json.loads((EXPECTED / f"{case.name}.json").read_text())
    return loaded


def _utc(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(seconds: float) -> str:
    return _utc(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))


# --- when each source file's run started (docs/import.md, per tool) -------------------

def started(tool: str, relative: str) -> str:
    path = FIXTURES / relative
    if tool == "fio":  # fio's "timestamp" (the report's) less the longest job's "elapsed"
        data = fio_result(relative)
        if "timestamp" not in data:  # fio before 2.2.5: the file's modification time
            return _epoch(MTIMES[relative])
        return _epoch(data["timestamp"] - max(j["elapsed"] for j in data["jobs"]))
    if tool == "pts":  # the system's <TimeStamp>, read as UTC
        stamp = ET.parse(path).getroot().findtext("System/TimeStamp") or ""
        return _utc(dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
    return _epoch(MTIMES[relative])  # sysbench, hyperfine: the file's modification time


# --- the figures a source file gives for one metric, in the metric's unit --------------

def fio_result(relative: str) -> Doc:
    """The file's last JSON document: with --status-interval fio prints one per
    interval, the last is the result; text after it (json,normal) is not JSON."""
    text = (FIXTURES / relative).read_text()
    found: Doc = json.JSONDecoder().raw_decode(text, text.rindex('{\n  "fio version"'))[0]
    return found


def fio_figures(relative: str, metric: Doc) -> list[float]:
    """The figure of every job whose name gives the id's job part (jobs of one
    name get _2, _3...), in the metric's unit."""
    _, job, direction, figure = metric["id"].split(".")
    named = [j for j in fio_result(relative)["jobs"]
             if re.sub(r"[^a-z0-9]+", "_", j["jobname"].lower()) in (job, re.sub(r"_\d+$", "", job))]
    out = []
    for stats in (j[direction] for j in named):
        if figure == "bw":  # bytes/s -> MiB/s; before fio 3.2 only KiB/s
            out.append(stats["bw_bytes"] / 2**20 if "bw_bytes" in stats else stats["bw"] / 1024)
        elif figure == "iops":
            out.append(stats["iops"])
        else:  # ns -> us; before fio 3.0 "clat", already in us
            key = {"clat_p50": "50.000000", "clat_p99": "99.000000",
                   "clat_p99_9": "99.900000"}[figure]
            out.append(stats["clat_ns"]["percentile"][key] / 1000 if "clat_ns" in stats
                       else stats["clat"]["percentile"][key])
    return out


# The text on the line where sysbench prints each figure, by the id's last part.
SYSBENCH_LINES = {
    "events_per_s": "events per second:", "mib_per_s": "MiB/sec", "ops_per_s": "per second)",
    "reads_per_s": "reads/s:", "writes_per_s": "writes/s:", "fsyncs_per_s": "fsyncs/s:",
    "read_mib_per_s": "read, MiB/s:", "written_mib_per_s": "written, MiB/s:",
    "total_time": "total time:", "latency_avg": " avg:", "latency_p95": "95th percentile:",
}
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def sysbench_figures(relative: str, metric: Doc) -> list[float]:
    text = (FIXTURES / relative).read_text()

    def on_line(mark: str) -> list[float]:
        return [float(n) for line in text.splitlines() if mark in line
                for n in NUMBER.findall(line)]

    figure = metric["id"].rsplit(".", 1)[1]
    if metric["id"].startswith("sysbench.threads.") and figure == "events_per_s":
        # threads prints totals only: the rate is total events / total time
        return [e / s for e in on_line("total number of events:")
                for s in on_line("total time:")]
    return on_line(SYSBENCH_LINES[figure])  # printed in the metric's unit: no conversion


def hyperfine_figures(relative: str, metric: Doc) -> list[float]:
    results = json.loads((FIXTURES / relative).read_text())["results"]
    (times,) = [r["times"] for r in results if r["command"] == metric["params"]["command"]]
    return [t for t in times if t != 0]  # seconds, every run but those of 0 s


def pts_figures(relative: str, metric: Doc) -> list[float]:
    root = ET.parse(FIXTURES / relative).getroot()
    (raw,) = [e.findtext("RawString") or "" for r in root.iter("Result")
              if r.findtext("Identifier") == metric["params"]["test"]
              and r.findtext("Arguments") == metric["params"]["arguments"]
              for e in r.iter("Entry")]
    return [float(v) for v in raw.split(":")]  # every run, as written


FIGURES: dict[str, Callable[[str, Doc], list[float]]] = {
    "fio": fio_figures, "sysbench": sysbench_figures, "hyperfine": hyperfine_figures,
    "pts": pts_figures}
# hyperfine and PTS give a list of runs per file: a round holds all of them, in order
EVERY_RUN = {"hyperfine", "pts"}


def mismatches(case: Case, doc: Doc) -> list[str]:
    """Where the samples of ``doc`` are not the figures of ``case``'s source files."""
    by_start = {started(case.tool, f): f for f in case.files}
    assert len(by_start) == len(case.files)  # the fixtures' runs started at distinct times
    out: list[str] = []
    source: dict[int, str] = {}
    for r in doc["rounds"]:
        if r["started_at"] not in by_start:
            out.append(f"round {r['round']} started at {r['started_at']}: no source file did")
        else:
            source[r["round"]] = by_start[r["started_at"]]
    for metric in doc["metrics"]:
        for number, relative in source.items():
            samples = [s for s, n in zip(metric["samples"], metric["sample_rounds"])
                       if n == number]
            if not samples:
                continue
            figures = FIGURES[case.tool](relative, metric)
            if case.tool in EVERY_RUN:
                same = len(samples) == len(figures) and all(
                    math.isclose(s, f, rel_tol=1e-12) for s, f in zip(samples, figures))
            else:
                same = len(samples) == 1 and any(
                    math.isclose(samples[0], f, rel_tol=1e-12) for f in figures)
            if not same:
                out.append(f"{metric['id']} round {number}: {samples} not in {relative} "
                           f"({figures})")
    return out


def test_every_golden_is_a_case_and_every_case_has_one() -> None:
    assert sorted(p.stem for p in EXPECTED.glob("*.json")) == sorted(CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_golden_is_a_valid_results_file(case: Case) -> None:
    Draft202012Validator(json.loads(SCHEMA.read_text())).validate(golden(case))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_golden_samples_are_figures_of_their_source(case: Case) -> None:
    doc = golden(case)
    assert len(doc["rounds"]) == len(case.files)
    assert mismatches(case, doc) == []
    assert any(m["samples"] for m in doc["metrics"])  # something was checked


def _case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def _bw_in_mb(doc: Doc) -> None:
    doc["metrics"][0]["samples"][0] *= 2**20 / 10**6  # fio bandwidth in MB/s, not MiB/s


def _rounds_swapped(doc: Doc) -> None:
    samples = doc["metrics"][0]["samples"]  # sysbench cpu: runs 1 and 2 exchanged
    samples[0], samples[1] = samples[1], samples[0]


def _times_in_ms(doc: Doc) -> None:
    doc["metrics"][0]["samples"] = [s * 1000 for s in doc["metrics"][0]["samples"]]


def _mean_not_runs(doc: Doc) -> None:
    kostya = next(m for m in doc["metrics"] if m["id"] == "pts.simdjson.kostya")
    kostya["samples"] = [1.14, 1.14, 1.14]  # the entry's <Value> thrice, not 1.14:1.13:1.14


@pytest.mark.parametrize(("name", "spoil"), [
    ("fio-idle", _bw_in_mb), ("sysbench-cpu-idle", _rounds_swapped),
    ("hyperfine-scan", _times_in_ms), ("pts-gvno3", _mean_not_runs),
], ids=["fio-unit", "sysbench-rounds", "hyperfine-unit", "pts-value"])
def test_a_wrong_golden_is_caught(name: str, spoil: Callable[[Doc], None]) -> None:
    doc = golden(_case(name))  # a fresh copy, read from the file
    spoil(doc)
    assert mismatches(_case(name), doc)
