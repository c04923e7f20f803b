"""What every importer shares: reading a source file, ids, metrics, one-round documents.

An importer turns one output file of a tool into one results document of a
single round (:func:`round_document`); :func:`reportgen.importers.import_files`
pools the rounds of several files.  A file that is not what it claims raises
:class:`~reportgen.core.errors.InputError` with one ``file:line:col: message`` line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.core.errors import InputError, Problem
from reportgen.read.results import FORMAT

# Longer slugs are cut and given a hash of the whole text, so ids stay readable
# and still differ when two long names share their start.
MAX_SLUG = 40


@dataclass(frozen=True)
class Source:
    """One file named on the command line, read whole."""

    shown: str  # how messages name it (relative to the working directory)
    name: str  # its base name, recorded in the provenance
    text: str
    sha256: str
    mtime: float

    def fail(self, message: str, line: int = 1, col: int = 1) -> InputError:
        return InputError([Problem(self.shown, line, col, message)])

    def line_of(self, needle: str) -> int:
        """The 1-based line where ``needle`` first occurs (1 when absent)."""
        at = self.text.find(needle)
        return self.text.count("\n", 0, at) + 1 if at >= 0 else 1


def read_source(path: Path, shown: str) -> Source:
    """The file's text and checksum; empty or non-UTF-8 files are refused."""
    try:
        content = path.read_bytes()
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise InputError([Problem(shown, 1, 1, "file not found")]) from None
    except OSError as exc:
        raise InputError([Problem(shown, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    if not content.strip():
        raise InputError([Problem(shown, 1, 1, "empty file")])
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(shown, 1, 1, f"not a text file: byte {exc.start} is not "
                                               "UTF-8")]) from None
    return Source(shown, path.name, text, hashlib.sha256(content).hexdigest(), mtime)


def slug(text: str, limit: int = MAX_SLUG) -> str:
    """A tool's own name as one id part: lower case, runs of other characters
    as ``_``; longer than ``limit``: cut, plus 8 hex digits of its SHA-1."""
    out = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"
    if len(out) > limit:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        out = out[:limit - 9].rstrip("_") + "_" + digest
    return out


def unique(key: str, taken: set[str]) -> str:
    """``key``, or ``key_2``, ``key_3``... when already taken (file order)."""
    found, n = key, 1
    while found in taken:
        n += 1
        found = f"{key}_{n}"
    taken.add(found)
    return found


def metric(metric_id: str, name: str, unit: str, better: str, samples: list[float],
           tool: str, params: dict[str, Any]) -> dict[str, Any]:
    """One metric of one round; a figure the schema cannot hold (zero, negative,
    not finite) makes it a failed metric that says why, instead of dropping it."""
    out: dict[str, Any] = {"id": metric_id, "name": name, "unit": unit, "better": better,
                           "samples": [], "sample_rounds": [], "tool": tool,
                           "params": params, "status": "ok"}
    bad = [x for x in samples if not (math.isfinite(x) and x > 0)]
    if bad or not samples:
        out["status"] = "failed"
        out["error"] = (f"the tool reported {bad[0]:g} {unit}, not a positive figure" if bad
                        else "the tool reported no figure")
        return out
    out["samples"] = samples
    out["sample_rounds"] = [1] * len(samples)
    return out


def failed(metric_id: str, name: str, unit: str, better: str, tool: str,
           params: dict[str, Any], error: str) -> dict[str, Any]:
    out = metric(metric_id, name, unit, better, [], tool, params)
    out["error"] = error
    return out


def utc(moment: dt.datetime) -> str:
    """ISO 8601 in UTC, to the second, as the results format writes times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_epoch(seconds: float) -> str:
    return utc(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))


def round_document(label: str, started_at: str, system: dict[str, Any],
                   metrics: list[dict[str, Any]], description: str = "") -> dict[str, Any]:
    """A results document of one round, as an importer returns it."""
    env: dict[str, Any] = {"label": label}
    if description:
        env["description"] = description
    return {"format": FORMAT, "environment": env, "collected_at": started_at,
            "rounds": [{"round": 1, "started_at": started_at}], "system": system,
            "metrics": metrics}


def number(text: str) -> float | None:
    """A number as the tool printed it, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Options:
    """The command line's tool-specific choices (see docs/import.md)."""

    system: str | None = None  # pts: which system of the result file
    test: str | None = None  # sysbench: the test, when its output does not say
    tool_version: str | None = None  # when the output does not say (hyperfine)
    shell: str | None = None  # hyperfine: the shell its commands ran in (none for -N)
    keep_failed: bool = False  # hyperfine: import runs whose command failed (-i)


@dataclass(frozen=True)
class Imported:
    """One file's round, the version of the tool that wrote it ("" if unknown), and
    what was left out of it."""

    doc: dict[str, Any]
    version: str
    warnings: tuple[Problem, ...] = ()


def json_data(source: Source, what: str) -> Any:
    """The file's JSON; lines before it (notes some tools print first) are
    blanked, so positions in messages stay those of the file."""
    text = _from_first_object(source, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_problem(source, what, text, exc) from None


def json_documents(source: Source, what: str) -> list[Any]:
    """Every JSON document of the file, in order: a tool may print one per
    interval (fio --status-interval), and text between or after them is
    another of its output formats (fio --output-format=json,normal), which is
    skipped up to the next line that opens a JSON object."""
    text = _from_first_object(source, what)
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    opening = _OPENING.search(text)
    while opening:
        try:
            value, end = decoder.raw_decode(text, opening.end() - 1)
        except json.JSONDecodeError as exc:
            raise _json_problem(source, what, text, exc) from None
        documents.append(value)
        opening = _OPENING.search(text, end)
    return documents


_OPENING = re.compile(r"^[ \t]*\{", re.MULTILINE)  # a line that opens a JSON object


def _from_first_object(source: Source, what: str) -> str:
    """The text from the first line that opens a JSON object, earlier lines blanked."""
    lines = source.text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.lstrip().startswith("{")), None)
    if first is None:
        raise source.fail(f"not {what}: no JSON object in the file")
    return "\n" * first + "\n".join(lines[first:])


def _json_problem(source: Source, what: str, text: str,
                  exc: json.JSONDecodeError) -> InputError:
    if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return source.fail(f"truncated {what}: the file ends inside the JSON",
                           exc.lineno, exc.colno)
    return source.fail(f"not {what}: JSON syntax error: {exc.msg}", exc.lineno, exc.colno)
