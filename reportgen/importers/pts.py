"""Phoronix Test Suite result files (``composite.xml``): one system's results.

A result file may hold several systems (its ``<System>`` entries, each with an
``<Identifier>``); one import reads one of them: the only one, or the one
``--system`` names.  Ids: ``pts.<test>[.<arguments>]``: the test profile's name
without its namespace and version (``pts/simdjson-2.0.1`` -> ``simdjson``) and
the result's arguments (its description when it has none; nothing for a test
run without options), each made an id part by
:func:`~reportgen.importers.common.slug`.  Neither the PTS version nor the unit
ever becomes part of an id, so a test keeps its id across PTS versions.

The XML is parsed by defusedxml with document type declarations refused: a
result file has none, and entity declarations are how a hostile file makes a
parser expand a few bytes into gigabytes.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeTree

from reportgen.core.errors import Problem
from reportgen.importers.common import (
    Imported,
    Options,
    Source,
    failed,
    from_epoch,
    metric,
    number,
    round_document,
    slug,
    unique,
    utc,
)

WHAT = "Phoronix Test Suite result file"
DIRECTIONS = {"HIB": "higher", "LIB": "lower"}
# PTS scales of time and size, in the project's units; others are kept as written.
UNITS = {"Seconds": "s", "Milliseconds": "ms", "Microseconds": "us", "Nanoseconds": "ns",
         "Bytes": "B", "MiB/s": "MiB/s", "MB/s": "MB/s", "GB/s": "GB/s", "GiB/s": "GiB/s"}
TEST = re.compile(r"(?:[^/]*/)?(.+?)(?:-\d+(?:\.\d+)*)?")
FACT = re.compile(r"(?:^|, )([A-Z][A-Za-z -]*): ")
CLIENT = re.compile(r"Phoronix Test Suite v?\d[\w.]*")
CORES = re.compile(r"\s*\((\d+) Cores?(?: / (\d+) Threads?)?\)\s*$")


def read(source: Source, label: str, options: Options) -> Imported:
    root = _parse(source)
    systems = [s.findtext("Identifier", "").strip() for s in root.findall("System")]
    if not systems:
        client = root.findtext("Generated/TestClient", "").strip()
        written = f"written by {client}; " if client else ""
        raise source.fail(f"not a {WHAT} this importer reads: no <System> in it ({written}this "
                          "importer reads the result files of PTS 5 and later)")
    chosen = _choose(source, systems, options.system)
    system = root.findall("System")[systems.index(chosen)]
    version = (system.findtext("TestClientVersion") or "").strip() or _client(root)
    tool = f"Phoronix Test Suite {version}".strip()
    metrics: list[dict[str, Any]] = []
    warnings: list[Problem] = []
    for result, key in _keys(root.findall("Result")):
        made = _result(source, result, key, chosen, tool, warnings)
        if made is not None:
            metrics.append(made)
    if not metrics:
        raise source.fail(f"no results of system '{chosen}' in the file")
    title = root.findtext("Generated/Title", "").strip()
    description = f"{chosen}, from the Phoronix Test Suite result '{title}'" if title else chosen
    doc = round_document(label, _started(source, system), _system(system, version), metrics,
                         description)
    return Imported(doc, version, tuple(warnings))


def _parse(source: Source) -> Element:
    try:
        root = SafeTree.fromstring(source.text, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise source.fail(f"not a {WHAT}: it declares a document type or entities, which "
                          "result files never do (refused, for safety)") from None
    except ParseError as exc:
        line, col = exc.position
        reason = str(exc.msg) if hasattr(exc, "msg") else str(exc)
        reason = reason.split(":")[0]
        if reason in ("no element found", "unclosed token"):
            raise source.fail(f"truncated {WHAT}: the file ends inside the XML",
                              line, col + 1) from None
        raise source.fail(f"not a {WHAT}: XML syntax error: {reason}", line, col + 1) from None
    if root.tag != "PhoronixTestSuite":
        raise source.fail(f"not a {WHAT}: the root element is <{root.tag}>, not "
                          "<PhoronixTestSuite>", source.line_of(f"<{root.tag}"))
    return root


def _choose(source: Source, systems: list[str], wanted: str | None) -> str:
    listed = ", ".join(systems)
    if wanted is not None:
        if wanted not in systems:
            raise source.fail(f"no system '{wanted}' in the file (it has: {listed})")
        return wanted
    if len(systems) > 1:
        raise source.fail(f"holds the results of {len(systems)} systems ({listed}): choose "
                          "one with --system")
    return systems[0]


def _client(root: Element) -> str:
    client = root.findtext("Generated/TestClient", "")
    found = re.search(r"v(\d[\w.]*)", client)
    return found.group(1) if found else ""


def _description(result: Element) -> str:
    """The result's description; PTS 5 wrote its own name and version there for a test
    run without options ("Phoronix Test Suite v5.2.1"), which says nothing of the test."""
    text = result.findtext("Description", "").strip()
    return "" if CLIENT.fullmatch(text) else text


def _keys(results: list[Element]) -> list[tuple[Element, str]]:
    """Each benchmark result and its id: ``pts.<test>[.<arguments or description>]``.
    Results that share test and arguments (figures of one run, such as compression and
    decompression speed) each get the part of their description after its last " - "
    (the whole description when those parts are alike), then ``_2``, ``_3``..."""
    found: list[tuple[Element, str]] = []
    for result in results:
        profile = result.findtext("Identifier", "").strip()
        if not profile:
            continue  # PTS's own figures (test install time and size), not a benchmark
        test = TEST.fullmatch(profile)
        option = result.findtext("Arguments", "").strip() or _description(result)
        found.append((result, ".".join(["pts", slug(test.group(1) if test else profile),
                                        *([slug(option)] if option else [])])))
    taken: set[str] = set()
    out: list[tuple[Element, str]] = []
    for result, key in found:
        group = [r for r, k in found if k == key]
        if len(group) > 1:
            tails = [_description(r).rsplit(" - ", 1)[-1] for r in group]
            whole = len(set(tails)) < len(tails)
            tail = _description(result) if whole else tails[group.index(result)]
            key = f"{key}_{slug(tail)}" if tail else key
        out.append((result, unique(key, taken)))
    return out


def _result(source: Source, result: Element, key: str, system: str, tool: str,
            warnings: list[Problem]) -> dict[str, Any] | None:
    profile = result.findtext("Identifier", "").strip()
    title = result.findtext("Title", "").strip()
    arguments = result.findtext("Arguments", "").strip()
    description = _description(result)
    entries = [e for e in result.iterfind("Data/Entry")
               if e.findtext("Identifier", "").strip() == system]
    if not entries:
        return None  # this system did not run it
    proportion = result.findtext("Proportion", "").strip()
    name = f"{title}: {description}" if description else title
    if proportion not in DIRECTIONS:
        warnings.append(Problem(source.shown, source.line_of(f"<Arguments>{arguments}<"), 1,
                                f"left out '{name}': its proportion {proportion!r} is neither "
                                "HIB nor LIB, so it has no direction", warning=True))
        return None
    scale = result.findtext("Scale", "").strip()
    params = {"test": profile, "arguments": arguments,
              "app_version": result.findtext("AppVersion", "").strip()}
    samples = [_sample(e) for e in entries]
    what = (key, name, UNITS.get(scale, scale), DIRECTIONS[proportion])
    if not all(samples):
        return failed(*what, tool, params, "PTS recorded no numbers for this system (a "
                                           "line graph or a pass/fail result?)")
    return metric(*what, [v for run in samples for v in run], tool, params)


def _sample(entry: Element) -> list[float]:
    """The entry's runs (RawString, ``a:b:c``), else its one value; [] if not numbers."""
    raw = entry.findtext("RawString", "").strip() or entry.findtext("Value", "").strip()
    values = [number(part) for part in raw.split(":")]
    return [v for v in values if v is not None] if all(v is not None for v in values) else []


def _started(source: Source, system: Element) -> str:
    stamp = system.findtext("TimeStamp", "").strip()
    try:
        return utc(dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S"))  # taken as UTC
    except ValueError:
        return from_epoch(source.mtime)


def _system(system: Element, version: str) -> dict[str, Any]:
    """CPU, OS and kernel from PTS's ``Key: value, Key: value`` summaries."""
    facts: dict[str, str] = {}
    for tag in ("Hardware", "Software"):
        text = system.findtext(tag, "")
        marks = list(FACT.finditer(text))
        for mark, after in zip(marks, marks[1:] + [None]):
            end = after.start() if after else len(text)
            facts[mark.group(1)] = text[mark.end():end].strip()
    out: dict[str, Any] = {}
    if "Processor" in facts:
        cores = CORES.search(facts["Processor"])
        out["cpu_model"] = CORES.sub("", facts["Processor"])
        if cores:
            out["cpu_cores"] = int(cores.group(1))
            if cores.group(2):
                out["cpu_threads"] = int(cores.group(2))
    if "OS" in facts:
        out["os"] = facts["OS"]
    if "Kernel" in facts:
        kernel = re.fullmatch(r"(.+?) \((\w+)\)", facts["Kernel"])
        out["kernel"] = kernel.group(1) if kernel else facts["Kernel"]
        if kernel:
            out["arch"] = kernel.group(2)
    if version:
        out["tools"] = {"phoronix-test-suite": version}
    return out
