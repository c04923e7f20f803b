"""fio JSON (``--output-format=json`` or ``json+``, fio 2.0.10 to 3.x): per job and
direction, bandwidth, IOPS and completion latency percentiles.

Ids: ``fio.<job>.<direction>.<figure>``: the job's name as fio prints it
(``jobname``, made an id part by :func:`~reportgen.importers.common.slug`),
``read``, ``write``, ``trim`` or ``mixed`` (``--unified_rw_reporting``), and
``bw``, ``iops``, ``clat_p50``, ``clat_p99``, ``clat_p99_9``.  The figures are
found where each fio version puts them (see docs/import.md), so one job has
the same ids under every version.
"""

from __future__ import annotations

import re
from typing import Any

from reportgen.core.errors import Problem
from reportgen.importers.common import (
    Imported,
    Options,
    Source,
    failed,
    from_epoch,
    json_documents,
    metric,
    number,
    round_document,
    slug,
    unique,
)

WHAT = "fio JSON output"
VERSION = re.compile(r"fio-(\d+)\.(\d+)(?:\.(\d+))?\S*")
Version = tuple[int, int, int]
FIRST_JSON: Version = (2, 0, 10)  # fio printed no JSON before 2.0.10
OPTIONS_SINCE: Version = (2, 3, 0)  # the first to write "job options" and "global options"
TIMESTAMP_SINCE: Version = (2, 2, 5)  # the first to write "timestamp"
PSYNC_SINCE: Version = (2, 10, 0)  # the default ioengine became psync (it was sync)
DIRECTIONS = ("read", "write", "trim", "mixed")
# What each rw mode does, for a job that failed before it measured anything.
MODE_DIRECTIONS = {"read": ("read",), "randread": ("read",), "write": ("write",),
                   "randwrite": ("write",), "rw": ("read", "write"),
                   "readwrite": ("read", "write"), "randrw": ("read", "write"),
                   "trim": ("trim",), "randtrim": ("trim",), "trimwrite": ("trim", "write")}
# The job settings that decide what is measured, with fio's defaults, so a job
# that states a default and one that leaves it out are measured alike
# (ioengine's default depends on the version: see _params).
PARAMS = {"rw": "read", "rwmixread": "50", "bs": "4k", "iodepth": "1", "numjobs": "1",
          "ioengine": "psync", "direct": "0", "fsync": "0", "fdatasync": "0"}
# Recorded only when set: without them a job reads or writes its whole file once.
SET_ONLY = ("size", "runtime")
PERCENTILES = ((50.0, "clat_p50", "p50"), (99.0, "clat_p99", "p99"),
               (99.9, "clat_p99_9", "p99.9"))
KIB, MIB = 1024, 1024 * 1024


def read(source: Source, label: str, options: Options) -> Imported:
    data, release, parts = _result(source)
    tool = f"fio {release}"
    common = data.get("global options") or {}
    taken: set[str] = set()
    metrics: list[dict[str, Any]] = []
    for job in data["jobs"]:
        name = unique(slug(str(job.get("jobname", "job"))), taken)
        params = _params(common, job.get("job options") or {}, parts)
        metrics.extend(_job(source, job, name, tool, params))
    warnings: tuple[Problem, ...] = ()
    if parts < OPTIONS_SINCE:
        warnings = (Problem(source.shown, source.line_of('"fio version"'), 1,
                            f"fio {release} JSON does not record the jobs' options (fio 2.3 "
                            "and later do), so runs of other settings (rw, bs, iodepth...) "
                            "cannot be told apart: import together only runs of one job file",
                            warning=True),)
    system = {"tools": {"fio": release}}
    return Imported(round_document(label, _started(source, data, parts), system, metrics),
                    release, warnings)


def _result(source: Source) -> tuple[dict[str, Any], str, Version]:
    """The run's result document with a "jobs" list, fio's release ("3.33") and
    its version as numbers; or why the file is refused."""
    # --status-interval prints a document per interval, each cumulative: the
    # last one is the run's result
    data = json_documents(source, WHAT)[-1]
    if not isinstance(data, dict) or "fio version" not in data:
        raise source.fail(f"not {WHAT}: no \"fio version\" key")
    version = str(data["fio version"])
    release = version.removeprefix("fio-")
    parts = _version(version)
    if not FIRST_JSON <= parts < (4, 0, 0):
        raise source.fail(f"unknown fio version {version!r}: this importer reads the JSON of "
                          "fio 2.0.10 (the first to write JSON) to 3.x",
                          source.line_of('"fio version"'))
    jobs = data.get("jobs")
    if "client_stats" in data and jobs is None:
        raise source.fail(f"fio {release} --client output is not read: run fio on the machine "
                          "it measures and import that JSON", source.line_of('"client_stats"'))
    if not isinstance(jobs, list) or not jobs or not all(isinstance(j, dict) for j in jobs):
        raise source.fail(f"not {WHAT}: no \"jobs\" list", source.line_of('"jobs"'))
    return data, release, parts


def _version(version: str) -> Version:
    """(major, minor, patch) of ``fio-3.1``, ``fio-2.1.11``, ``fio-3.33-12-gabc``;
    (0, 0, 0) when it is none of these."""
    found = VERSION.fullmatch(version)
    if not found:
        return (0, 0, 0)
    major, minor, patch = found.groups()
    return (int(major), int(minor), int(patch or 0))


def _started(source: Source, data: dict[str, Any], parts: Version) -> str:
    """fio's ``timestamp`` (when it wrote the report) less the longest job's
    ``elapsed``; fio before 2.2.5 records no time: the file's modification time."""
    stamp = data.get("timestamp")
    if not isinstance(stamp, (int, float)) or isinstance(stamp, bool):
        if parts < TIMESTAMP_SINCE:
            return from_epoch(source.mtime)
        raise source.fail(f"not {WHAT}: no \"timestamp\"", source.line_of('"timestamp"'))
    elapsed = max((float(j.get("elapsed", 0) or 0) for j in data["jobs"]), default=0.0)
    return from_epoch(stamp - elapsed)


def _params(common: dict[str, Any], own: dict[str, Any], parts: Version) -> dict[str, Any]:
    """The settings of docs/import.md as text, the job's own over the global ones."""
    if parts < OPTIONS_SINCE:
        return {"options": "not recorded by fio before 2.3"}
    options = {**common, **own}
    if "rwmixread" not in options and str(options.get("rwmixwrite", "")).isdigit():
        options["rwmixread"] = str(100 - int(options["rwmixwrite"]))
    defaults = {**PARAMS, "ioengine": "psync" if parts >= PSYNC_SINCE else "sync"}
    params = {key: str(options.get(key, default)) for key, default in defaults.items()}
    params.update({key: str(options[key]) for key in SET_ONLY if key in options})
    return params


def _job(source: Source, job: dict[str, Any], name: str, tool: str,
         params: dict[str, Any]) -> list[dict[str, Any]]:
    shown = str(job.get("jobname", name))
    present = [d for d in DIRECTIONS if isinstance(job.get(d), dict)]
    if not present:
        raise source.fail(f"truncated {WHAT}: job '{shown}' has no \"read\", \"write\" or "
                          "\"mixed\" figures", source.line_of(f'"jobname" : "{shown}"'))
    error = job.get("error", 0)
    # the directions a failed job's rw names ("randread:8" is randread with an
    # offset); all of them when fio did not record rw
    implied = MODE_DIRECTIONS.get(str(params.get("rw", "")).split(":")[0], DIRECTIONS)
    out: list[dict[str, Any]] = []
    for direction in present:
        stats = job[direction]
        base = f"fio.{name}.{direction}"
        figures = _figures(stats)
        if error:
            if direction == "mixed" or direction in implied:
                out.extend(failed(f"{base}.{key}", f"fio {shown}: {direction} {title}", unit,
                                  better, tool, params, f"fio job '{shown}' ended with error "
                                                        f"{error}")
                           for key, title, unit, better, _ in figures)
            continue
        if not stats.get("io_bytes"):
            continue  # the job did not do this kind of I/O
        for key, title, unit, better, value in figures:
            what = (f"{base}.{key}", f"fio {shown}: {direction} {title}", unit, better)
            out.append(metric(*what, [value], tool, params) if value is not None else
                       failed(*what, tool, params, f"fio printed no {title} for this job"))
    return out


def _figures(stats: dict[str, Any]) -> list[tuple[str, str, str, str, float | None]]:
    """(id part, name, unit, better, value) of one direction's figures.  fio 3.2
    added ``bw_bytes``; earlier versions print ``bw`` in KiB/s only.  fio 3.0 moved
    latencies from ``clat`` (us) to ``clat_ns``."""
    bw_bytes, bw_kib = _figure(stats.get("bw_bytes")), _figure(stats.get("bw"))
    bw = bw_bytes / MIB if bw_bytes is not None else (
        bw_kib / KIB if bw_kib is not None else None)
    out = [("bw", "bandwidth", "MiB/s", "higher", bw),
           ("iops", "IOPS", "IO/s", "higher", _figure(stats.get("iops")))]
    in_ns = isinstance(stats.get("clat_ns"), dict)
    clat = stats.get("clat_ns" if in_ns else "clat")
    raw = clat.get("percentile") if isinstance(clat, dict) else None
    # keys are "99.900000" (fio 2.0.14 on) or "99.90" (2.0.10 to 2.0.13)
    percentiles = {number(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    for at, part, title in PERCENTILES:
        value = _figure(percentiles.get(at))
        out.append((part, f"{title} completion latency", "us", "lower",
                    None if value is None else value / 1000 if in_ns else value))
    return out


def _figure(value: Any) -> float | None:
    """A number fio printed, or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
