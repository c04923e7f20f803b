"""sysbench 1.x text output of the cpu, memory, fileio, threads and mutex tests.

Ids: ``sysbench.<test>[.<mode>].t<threads>.<figure>``: the test's name, the
memory operation or fileio mode for those two, the thread count, and the
figure (``events_per_s``, ``mib_per_s``..., and every test's ``latency_avg``
and ``latency_p95``).  The text carries no time, so the round's start is the
file's modification time.
"""

from __future__ import annotations

import re
from typing import Any

from reportgen.importers.common import (
    Imported,
    Options,
    Source,
    failed,
    from_epoch,
    metric,
    number,
    round_document,
)

WHAT = "sysbench output"
HEADER = re.compile(r"^sysbench (\d+)\.(\d+)[\w.-]*", re.MULTILINE)
# Lines that only one test prints; threads and mutex print none.
MARKS = (("cpu", "Prime numbers limit:"), ("memory", "Running memory speed test"),
         ("fileio", "Extra file open flags:"))
FILEIO_MODES = {"sequential write (creation)": "seqwr", "sequential rewrite": "seqrewr",
                "sequential read": "seqrd", "random read": "rndrd", "random write": "rndwr",
                "random r/w": "rndrw"}
# Figure = (id part, name, unit, better, pattern whose group 1 is the value).
Figure = tuple[str, str, str, str, str]
LATENCY: tuple[Figure, ...] = (
    ("latency_avg", "average latency", "ms", "lower", r"Latency \(ms\):\s+min:.*\n\s+avg:\s+(\S+)"),
    ("latency_p95", "95th percentile latency", "ms", "lower", r"95th percentile:\s+(\S+)"),
)
# Each test's own figures; every test also prints LATENCY.
FIGURES: dict[str, tuple[Figure, ...]] = {
    "cpu": (("events_per_s", "events per second", "events/s", "higher",
             r"events per second:\s+(\S+)"),),
    "memory": (("mib_per_s", "throughput", "MiB/s", "higher",
                r"MiB transferred \((\S+) MiB/sec\)"),
               ("ops_per_s", "operations per second", "ops/s", "higher",
                r"Total operations: \d+ \((\S+) per second\)")),
    "fileio": (("reads_per_s", "reads per second", "ops/s", "higher", r"reads/s:\s+(\S+)"),
               ("writes_per_s", "writes per second", "ops/s", "higher", r"writes/s:\s+(\S+)"),
               ("fsyncs_per_s", "fsyncs per second", "ops/s", "higher", r"fsyncs/s:\s+(\S+)"),
               ("read_mib_per_s", "read throughput", "MiB/s", "higher",
                r"read, MiB/s:\s+(\S+)"),
               ("written_mib_per_s", "write throughput", "MiB/s", "higher",
                r"written, MiB/s:\s+(\S+)")),
    "threads": (),
    "mutex": (("total_time", "total time", "s", "lower", r"total time:\s+(\S+?)s\b"),),
}
# Settings each test prints, as params: (key, pattern whose group 1 is the value).
SETTINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "cpu": (("prime_limit", r"Prime numbers limit: (\S+)"),),
    "memory": (("block_size", r"block size: (\S+)"), ("total_size", r"total size: (\S+)"),
               ("operation", r"operation: (\S+)"), ("scope", r"scope: (\S+)")),
    "fileio": (("files", r"^(\d+) files,"), ("file_size", r"files, (\S+) each"),
               ("block_size", r"Block size (\S+)"), ("open_flags", r"Extra file open flags: (.+)"),
               ("rw_ratio", r"Read/Write ratio for combined random IO test: (\S+)"),
               ("fsync_every", r"calling fsync\(\) each (\d+) requests"),
               ("fsync_at_end", r"Calling fsync\(\) at the end of test, (\w+)"),
               ("io_mode", r"Using (\w+) I/O mode")),
}


def read(source: Source, label: str, options: Options) -> Imported:
    text = source.text
    header = HEADER.search(text)
    if not header:
        raise source.fail(f"not {WHAT}: no 'sysbench <version>' line")
    line = source.line_of(header.group(0))
    version = header.group(0).removeprefix("sysbench ")
    if header.group(1) != "1":
        raise source.fail(f"unknown sysbench version {version!r}: this importer reads the "
                          "output of sysbench 1.x", line)
    test = _test(source, options.test)
    if "General statistics:" not in text:
        raise source.fail(f"truncated {WHAT}: no 'General statistics' section")
    threads = _find(source, r"Number of threads: (\d+)", "Number of threads")
    params: dict[str, Any] = {"threads": int(threads)}
    for key, pattern in SETTINGS.get(test, ()):
        found = re.search(pattern, text, re.MULTILINE)
        if found:
            params[key] = found.group(1).strip()
    mode = _mode(source, test, params)
    base = ".".join(["sysbench", test, *([mode] if mode else []), f"t{threads}"])
    who = f"sysbench {test}{' ' + mode if mode else ''}, {threads} thread{'s' * (threads != '1')}"
    tool = f"sysbench {version}"
    metrics = []
    for part, title, unit, better, pattern in FIGURES[test] + LATENCY:
        value = _value(source, pattern, title)
        what = (f"{base}.{part}", f"{who}: {title}", unit, better)
        if value == 0 and unit == "ms":
            metrics.append(failed(*what, tool, params, "sysbench printed 0.00 ms: below the "
                                                       "0.01 ms it can show"))
        elif value == 0 and test == "fileio":
            continue  # an operation this mode does not do
        else:
            metrics.append(metric(*what, [value], tool, params))
    if test == "threads":  # it prints only totals: the rate is events over time
        events = _value(source, r"total number of events:\s+(\S+)", "total number of events")
        seconds = _value(source, r"total time:\s+(\S+?)s\b", "total time")
        rate = events / seconds if seconds > 0 else 0.0
        metrics.insert(0, metric(f"{base}.events_per_s", f"{who}: events per second",
                                 "events/s", "higher", [rate], tool, params))
    doc = round_document(label, from_epoch(source.mtime), {"tools": {"sysbench": version}},
                         metrics)
    return Imported(doc, version)


def _test(source: Source, given: str | None) -> str:
    found = [test for test, mark in MARKS if mark in source.text]
    if found and given and given != found[0]:
        raise source.fail(f"this is the output of sysbench's {found[0]} test, not "
                          f"{given} (--test)")
    if found:
        return found[0]
    if given:
        return given
    raise source.fail("sysbench's threads and mutex tests print no settings, so the output "
                      "does not say which test made it: give --test threads or --test mutex")


def _mode(source: Source, test: str, params: dict[str, Any]) -> str:
    if test == "memory":
        return str(params.get("operation", ""))
    if test != "fileio":
        return ""
    doing = re.search(r"Doing (.+) test", source.text)
    mode = FILEIO_MODES.get(doing.group(1)) if doing else None
    if mode is None:
        raise source.fail(f"truncated {WHAT}: no 'Doing <mode> test' line")
    params["mode"] = mode
    return mode


def _find(source: Source, pattern: str, title: str) -> str:
    found = re.search(pattern, source.text, re.MULTILINE)
    if not found:
        raise source.fail(f"truncated {WHAT}: no '{title}' figure")
    return found.group(1)


def _value(source: Source, pattern: str, title: str) -> float:
    text = _find(source, pattern, title)
    value = number(text)
    if value is None:
        raise source.fail(f"not {WHAT}: '{title}' is {text!r}, not a number",
                          source.line_of(text))
    return value
