"""sysbench text output: 0.4, 0.5 and 1.x; cpu, memory, fileio, threads, mutex, OLTP.

A file may hold several runs (a log people append to): each ``sysbench
<version>`` header starts one, and each run that printed results is one round.
Runs that only prepared or cleaned up (``Creating files for the test``...) are
skipped; runs of another test or other options are refused at their header
line, since pooling them would mix unlike figures.

Ids: ``sysbench.<test>[.<mode>].t<threads>.<figure>``: the test's name (for an
OLTP script, ``oltp`` or the script ``--test`` names), the memory operation or
fileio mode for those two, the thread count, and the figure.  The text carries
no time, so every round's start is the file's modification time (ties keep the
file's order).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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
from reportgen.read import results

WHAT = "sysbench output"
# The first line of every run: "sysbench 1.0.20 (using ...)", "sysbench 0.4.12:  multi-...".
# Anything before "sysbench" (a log's prefix) is taken off the run's lines that carry it.
HEADER = re.compile(r"(?P<prefix>.*?)sysbench (?P<version>(?P<major>\d+)\.(?P<minor>\d+)"
                    r"[\w.-]*)(?::|\s+\(using\b|\s*$)")
# What each generation prints before its figures; a run without it printed none.
RESULTS = {"0.4": "Test execution summary:", "0.5": "General statistics:",
           "1": "General statistics:"}
# A run that only made or removed the test's files or tables.
SETUP = re.compile(r"Creating files for the test|Removing test files|Creating table|"
                   r"Dropping table|Creating \d+ records|Inserting \d+ records")
BUILT_IN = ("cpu", "memory", "fileio", "threads", "mutex")
# sysbench 1.x's bundled OLTP scripts; "oltp" names any of them (and 0.4's built-in test).
OLTP_SCRIPTS = ("oltp", "oltp_read_write", "oltp_read_only", "oltp_write_only",
                "oltp_point_select", "oltp_insert", "oltp_delete", "oltp_update_index",
                "oltp_update_non_index", "select_random_points", "select_random_ranges",
                "bulk_insert")
TESTS = BUILT_IN + OLTP_SCRIPTS
# Lines only one test prints, by generation ("0" is 0.4 and 0.5).
MARKS = {
    "1": (("cpu", "Prime numbers limit:"), ("memory", "Running memory speed test"),
          ("fileio", "Extra file open flags:"), ("oltp", "SQL statistics:")),
    "0": (("cpu", "Doing CPU performance benchmark"),
          ("memory", "Doing memory operations speed test"),
          ("fileio", "Extra file open flags:"),
          ("threads", "Doing thread subsystem performance test"),
          ("mutex", "Doing mutex performance test"), ("oltp", "OLTP test statistics:")),
}
FILEIO_MODES = {"sequential write (creation)": "seqwr", "sequential rewrite": "seqrewr",
                "sequential read": "seqrd", "random read": "rndrd", "random write": "rndwr",
                "random r/w": "rndrw"}
# sysbench 0.4 sizes: a number and K, M, G or T (binary), or bytes without a letter.
MIB_PER = {"": 2.0**-20, "K": 2.0**-10, "M": 1.0, "G": 2.0**10, "T": 2.0**20}


@dataclass(frozen=True)
class Run:
    """One run's lines (its log prefix taken off) and the line its header is on."""

    source: Source
    line: int
    text: str
    version: str
    generation: str  # "0.4", "0.5" or "1"

    def find(self, pattern: str) -> re.Match[str] | None:
        return re.search(pattern, self.text, re.MULTILINE)

    def need(self, pattern: str, title: str) -> re.Match[str]:
        found = self.find(pattern)
        if not found:
            raise self.source.fail(f"truncated {WHAT}: no '{title}' figure", self.line)
        return found

    def value(self, pattern: str, title: str, group: int = 1) -> float:
        found = self.need(pattern, title)
        value = number(found.group(group))
        if value is None:
            line = self.line + self.text.count("\n", 0, found.start(group))
            raise self.source.fail(f"not {WHAT}: '{title}' is {found.group(group)!r}, not a "
                                   "number", line)
        return value


Reader = Callable[[Run], float]
# (id part, name, unit, better, how the run gives it)
Figure = tuple[str, str, str, str, Reader]


def printed(pattern: str, title: str) -> Reader:
    """A rate sysbench printed (group 1 of ``pattern``)."""
    return lambda run: run.value(pattern, title)


def seconds(run: Run) -> float:
    return run.value(r"total time:\s+([\d.]+)s\b", "total time")


def per_second(pattern: str, title: str) -> Reader:
    """A count sysbench printed, over the run's total time (0.4 and 0.5 print no rate)."""
    def read(run: Run) -> float:
        took = seconds(run)
        return run.value(pattern, title) / took if took > 0 else 0.0
    return read


def size_per_second(pattern: str, title: str) -> Reader:
    """A size sysbench 0.4 printed (``93.75Mb``, binary units), in MiB, over the total time."""
    def read(run: Run) -> float:
        size = run.value(pattern, title) * MIB_PER[run.need(pattern, title).group(2)]
        took = seconds(run)
        return size / took if took > 0 else 0.0
    return read


EVENTS = ("events_per_s", "events per second", "events/s", "higher")
EVENT_RATE = per_second(r"total number of events:\s+(\d+)", "total number of events")
TOTAL_TIME = ("total_time", "total time", "s", "lower", seconds)
TPS = ("transactions_per_s", "transactions per second", "tx/s", "higher",
       printed(r"transactions:\s+\d+\s+\(\s*([\d.]+) per sec\.\)", "transactions"))


def _fileio_1x() -> tuple[Figure, ...]:
    rows = (("reads_per_s", "reads per second", "ops/s", r"reads/s:\s+(\S+)", "reads/s"),
            ("writes_per_s", "writes per second", "ops/s", r"writes/s:\s+(\S+)", "writes/s"),
            ("fsyncs_per_s", "fsyncs per second", "ops/s", r"fsyncs/s:\s+(\S+)", "fsyncs/s"),
            ("read_mib_per_s", "read throughput", "MiB/s", r"read, MiB/s:\s+(\S+)",
             "read, MiB/s"),
            ("written_mib_per_s", "write throughput", "MiB/s", r"written, MiB/s:\s+(\S+)",
             "written, MiB/s"))
    return tuple((part, name, unit, "higher", printed(pattern, title))
                 for part, name, unit, pattern, title in rows)


# Each test's own figures, by generation; every test also gives its latencies.
FIGURES: dict[str, dict[str, tuple[Figure, ...]]] = {
    "1": {
        "cpu": ((*EVENTS, printed(r"events per second:\s+(\S+)", "events per second")),),
        "memory": (("mib_per_s", "throughput", "MiB/s", "higher",
                    printed(r"MiB transferred \(\s*(\S+) MiB/sec\)", "MiB transferred")),
                   ("ops_per_s", "operations per second", "ops/s", "higher",
                    printed(r"Total operations: \d+ \(\s*(\S+) per second\)",
                            "Total operations"))),
        "fileio": _fileio_1x(),
        "threads": ((*EVENTS, EVENT_RATE),),  # it prints only totals
        "mutex": (TOTAL_TIME,),
        "oltp": (TPS, ("queries_per_s", "queries per second", "queries/s", "higher",
                       printed(r"queries:\s+\d+\s+\(\s*([\d.]+) per sec\.\)", "queries"))),
    },
    "0": {
        "cpu": ((*EVENTS, EVENT_RATE),),
        "memory": (("mib_per_s", "throughput", "MiB/s", "higher",  # 0.4's MB is 2^20 bytes
                    printed(r"MB transferred \(\s*(\S+) MB/sec\)", "MB transferred")),
                   ("ops_per_s", "operations per second", "ops/s", "higher",
                    printed(r"Operations performed: \d+ \(\s*(\S+) ops/sec\)",
                            "Operations performed"))),
        "fileio": (("reads_per_s", "reads per second", "ops/s", "higher",
                    per_second(r"(\d+) Read,", "Operations performed")),
                   ("writes_per_s", "writes per second", "ops/s", "higher",
                    per_second(r"(\d+) Write,", "Operations performed")),
                   ("read_mib_per_s", "read throughput", "MiB/s", "higher",
                    size_per_second(r"Read ([\d.]+)([KMGT]?)b\s", "Read")),
                   ("written_mib_per_s", "write throughput", "MiB/s", "higher",
                    size_per_second(r"Written ([\d.]+)([KMGT]?)b\s", "Written"))),
        "threads": ((*EVENTS, EVENT_RATE),),
        "mutex": (TOTAL_TIME,),
        "oltp": (TPS, ("queries_per_s", "queries per second", "queries/s", "higher",
                       per_second(r"total:\s+(\d+)", "queries performed"))),
    },
}
# Settings each test prints, as params: (key, pattern whose group 1 is the value).
FILEIO_SETTINGS = (("files", r"\b(\d+) files, \S+ each$"),
                   ("file_size", r"\b\d+ files, (\S+) each$"),
                   ("block_size", r"Block size (\S+)"),
                   ("open_flags", r"Extra file open flags: (.+)"),
                   ("rw_ratio", r"Read/Write ratio for combined random IO test: (\S+)"),
                   ("fsync_every", r"calling fsync\(\) each (\d+) requests"),
                   ("fsync_at_end", r"Calling fsync\(\) at the end of test, (\w+)"),
                   ("io_mode", r"Using (\w+) I/O mode"))
SETTINGS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "1": {"cpu": (("prime_limit", r"Prime numbers limit: (\S+)"),),
          "memory": (("block_size", r"block size: (\S+)"), ("total_size", r"total size: (\S+)"),
                     ("operation", r"operation: (\S+)"), ("scope", r"scope: (\S+)")),
          "fileio": FILEIO_SETTINGS},
    "0": {"cpu": (("prime_limit", r"Maximum prime number checked in CPU test: (\d+)"),),
          "memory": (("block_size", r"Memory block size: (\S+)"),
                     ("total_size", r"Memory transfer size: (\S+)"),
                     ("operation", r"Memory operations type: (\S+)"),
                     ("scope", r"Memory scope type: (\S+)")),
          "fileio": FILEIO_SETTINGS,
          "threads": (("yields", r"Thread yields per test: (\d+)"),
                      ("locks", r"Locks used: (\d+)")),
          "oltp": (("oltp_mode", r"Running (\w+) OLTP test"),
                   ("read_only", r"Doing (read-only) test"),
                   ("distribution", r"Using (\w+) distribution"))},
}


@dataclass(frozen=True)
class Parsed:
    run: Run
    test: str
    mode: str
    params: dict[str, Any]


def read(source: Source, label: str, options: Options) -> Imported:
    runs = [_parse(run, options.test) for run in _runs(source)]
    first = runs[0]
    for later in runs[1:]:
        _check_alike(first, later)
    docs = [round_document(label, from_epoch(source.mtime),
                           {"tools": {"sysbench": p.run.version}}, _metrics(p)) for p in runs]
    return Imported(results.pool(docs), first.run.version)


def _runs(source: Source) -> list[Run]:
    """Every run of the file that printed results, in file order."""
    lines = source.text.removeprefix("\ufeff").split("\n")
    heads = [(i, m) for i, text in enumerate(lines) if (m := HEADER.match(text))]
    if not heads:
        raise source.fail(f"not {WHAT}: no 'sysbench <version>' line")
    runs: list[Run] = []
    ends = [i for i, _ in heads[1:]] + [len(lines)]
    for (start, head), end in zip(heads, ends):
        version, prefix = head.group("version"), head.group("prefix")
        major, minor = head.group("major"), head.group("minor")
        generation = major if major == "1" else f"{major}.{minor}"
        if generation not in RESULTS:
            raise source.fail(f"unknown sysbench version {version!r}: this importer reads the "
                              "output of sysbench 0.4, 0.5 and 1.x", start + 1)
        text = "\n".join(line.removeprefix(prefix) for line in lines[start:end])
        if RESULTS[generation] in text:
            runs.append(Run(source, start + 1, text, version, generation))
        elif not SETUP.search(text):
            raise source.fail(f"truncated {WHAT}: no '{RESULTS[generation].rstrip(':')}' "
                              "section", start + 1)
    if not runs:
        raise source.fail("no sysbench run in the file, only the output of its prepare or "
                          "cleanup commands")
    return runs


def _parse(run: Run, given: str | None) -> Parsed:
    family = run.generation[0]
    test = _test(run, given, family)
    threads = run.value(r"Number of threads: (\d+)", "Number of threads")
    params: dict[str, Any] = {"test": test, "threads": int(threads)}
    kind = "oltp" if test in OLTP_SCRIPTS else test
    for key, pattern in SETTINGS[family].get(kind, ()):
        found = run.find(pattern)
        if found:
            params[key] = found.group(1).strip()
    mode = str(params.get("operation", "")) if test == "memory" else ""
    if test == "fileio":
        doing = run.find(r"Doing (.+) test")
        mode = FILEIO_MODES.get(doing.group(1), "") if doing else ""
        if not mode:
            raise run.source.fail(f"truncated {WHAT}: no 'Doing <mode> test' line", run.line)
        params["mode"] = mode
    return Parsed(run, test, mode, params)


def _test(run: Run, given: str | None, family: str) -> str:
    found = next((test for test, mark in MARKS[family] if mark in run.text), None)
    if found == "oltp":
        if given in BUILT_IN:
            raise run.source.fail(f"this is the output of a sysbench OLTP test, not of its "
                                  f"{given} test (--test)", run.line)
        return given or "oltp"
    if found and given and given != found:
        raise run.source.fail(f"this is the output of sysbench's {found} test, not {given} "
                              "(--test)", run.line)
    if found or given:
        return found or str(given)
    raise run.source.fail("sysbench's threads and mutex tests print no settings, so the output "
                          "does not say which test made it: give --test threads or --test "
                          "mutex", run.line)


def _check_alike(first: Parsed, later: Parsed) -> None:
    """Runs of one file are rounds of one metric only when measured alike."""
    mine = {"version": later.run.version, **later.params}
    theirs = {"version": first.run.version, **first.params}
    for key in dict.fromkeys([*theirs, *mine]):
        if mine.get(key) != theirs.get(key):
            raise later.run.source.fail(
                f"this run differs from the file's first run (line {first.run.line}) in "
                f"{key}: {_shown(mine.get(key))} here, {_shown(theirs.get(key))} there; the "
                "runs of one file are rounds of the same test and options: put the others in "
                "files of their own", later.run.line)


def _shown(value: Any) -> str:
    return "none" if value is None else repr(str(value))


def _metrics(parsed: Parsed) -> list[dict[str, Any]]:
    run, test, mode, params = parsed.run, parsed.test, parsed.mode, parsed.params
    threads = params["threads"]
    kind = "oltp" if test in OLTP_SCRIPTS else test
    base = ".".join(["sysbench", test, *([mode] if mode else []), f"t{threads}"])
    who = f"sysbench {test}{' ' + mode if mode else ''}, {threads} thread{'s' * (threads != 1)}"
    tool = f"sysbench {run.version}"
    out = []
    for part, title, unit, better, reader in FIGURES[run.generation[0]][kind] + _latency(run):
        value = reader(run)
        what = (f"{base}.{part}", f"{who}: {title}", unit, better)
        if value == 0 and unit == "ms":
            out.append(failed(*what, tool, params, "sysbench printed 0.00 ms: below the "
                                                   "0.01 ms it can show"))
        elif value == 0 and test == "fileio":
            continue  # an operation this mode does not do
        else:
            out.append(metric(*what, [value], tool, params))
    return out


def _latency(run: Run) -> tuple[Figure, ...]:
    """Average latency, and the percentile ``--percentile`` chose (none with 0)."""
    unit = "" if run.generation == "1" else "ms"  # 0.4 and 0.5 print "6.64ms"
    avg: Figure = ("latency_avg", "average latency", "ms", "lower",
                   printed(rf"\bavg:\s+([\d.]+){unit}\s*$", "avg"))
    shape = (r"\b([\d.]+)th percentile:\s+([\d.]+)\s*$" if run.generation == "1"
             else r"approx\.\s+([\d.]+) percentile:\s+([\d.]+)ms")
    found = run.find(shape)
    if not found or number(found.group(1)) == 0:
        return (avg,)
    rank = found.group(1)
    return (avg, (f"latency_p{rank.replace('.', '_')}", f"{rank}th percentile latency", "ms", "lower",
                  lambda r: r.value(shape, f"{rank}th percentile", 2)))
