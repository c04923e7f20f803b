"""fio 3.x JSON (``--output-format=json``): per job and direction, bandwidth,
IOPS and completion latency percentiles.

Ids: ``fio.<job>.<direction>.<figure>``: the job's name as fio prints it
(``jobname``, made an id part by :func:`~reportgen.importers.common.slug`),
``read``, ``write`` or ``trim``, and ``bw``, ``iops``, ``clat_p50``,
``clat_p99``, ``clat_p99_9``.
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
    json_data,
    metric,
    round_document,
    slug,
    unique,
)

WHAT = "fio JSON output"
VERSION = re.compile(r"fio-(\d+)\.(\d+)\S*")
DIRECTIONS = ("read", "write", "trim")
# What each rw mode does, for a job that failed before it measured anything.
MODE_DIRECTIONS = {"read": ("read",), "randread": ("read",), "write": ("write",),
                   "randwrite": ("write",), "rw": ("read", "write"),
                   "readwrite": ("read", "write"), "randrw": ("read", "write"),
                   "trim": ("trim",), "randtrim": ("trim",), "trimwrite": ("trim", "write")}
# The job settings that decide what is measured, with fio's defaults, so a job
# that states a default and one that leaves it out are measured alike.
PARAMS = {"rw": "read", "bs": "4k", "iodepth": "1", "numjobs": "1", "direct": "0",
          "fsync": "0", "fdatasync": "0"}
PERCENTILES = (("50.000000", "clat_p50", "p50"), ("99.000000", "clat_p99", "p99"),
               ("99.900000", "clat_p99_9", "p99.9"))
MIB = 1024 * 1024


def read(source: Source, label: str, options: Options) -> Imported:
    data = json_data(source, WHAT)
    if not isinstance(data, dict) or "fio version" not in data:
        raise source.fail(f"not {WHAT}: no \"fio version\" key")
    version = str(data["fio version"])
    found = VERSION.fullmatch(version)
    if not found or found.group(1) != "3":
        raise source.fail(f"unknown fio version {version!r}: this importer reads the JSON of "
                          "fio 3.x", source.line_of('"fio version"'))
    jobs = data.get("jobs")
    if not isinstance(jobs, list) or not jobs or not all(isinstance(j, dict) for j in jobs):
        raise source.fail(f"not {WHAT}: no \"jobs\" list", source.line_of('"jobs"'))
    number = version.removeprefix("fio-")
    tool = f"fio {number}"
    common = data.get("global options") or {}
    taken: set[str] = set()
    metrics: list[dict[str, Any]] = []
    for job in jobs:
        name = unique(slug(str(job.get("jobname", "job"))), taken)
        metrics.extend(_job(source, job, name, tool, common))
    elapsed = max((float(j.get("elapsed", 0) or 0) for j in jobs), default=0.0)
    stamp = data.get("timestamp")
    if not isinstance(stamp, (int, float)):
        raise source.fail(f"not {WHAT}: no \"timestamp\"", source.line_of('"timestamp"'))
    started = from_epoch(stamp - elapsed)  # fio stamps the report when the jobs end
    return Imported(round_document(label, started, {"tools": {"fio": number}}, metrics),
                    number)


def _job(source: Source, job: dict[str, Any], name: str, tool: str,
         common: dict[str, Any]) -> list[dict[str, Any]]:
    options = {**common, **(job.get("job options") or {})}
    params = {key: str(options.get(key, default)) for key, default in PARAMS.items()}
    shown = str(job.get("jobname", name))
    error = job.get("error", 0)
    out: list[dict[str, Any]] = []
    for direction in DIRECTIONS:
        stats = job.get(direction)
        if not isinstance(stats, dict):
            raise source.fail(f"truncated {WHAT}: job '{shown}' has no \"{direction}\" "
                              "figures", source.line_of(f'"jobname" : "{shown}"'))
        base = f"fio.{name}.{direction}"
        figures = _figures(stats)
        if error:
            if direction in MODE_DIRECTIONS.get(params["rw"], ()):
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
    """(id part, name, unit, better, value) of one direction's figures."""
    bw = stats.get("bw_bytes")
    iops = stats.get("iops")
    out = [("bw", "bandwidth", "MiB/s", "higher",
            bw / MIB if isinstance(bw, (int, float)) else None),
           ("iops", "IOPS", "IO/s", "higher", float(iops) if isinstance(iops, (int, float))
            else None)]
    clat = stats.get("clat_ns") or {}
    percentiles = clat.get("percentile") or {}
    for key, part, title in PERCENTILES:
        value = percentiles.get(key)
        out.append((part, f"{title} completion latency", "us", "lower",
                    value / 1000 if isinstance(value, (int, float)) else None))
    return out
