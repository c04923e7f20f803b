"""Results documents as data: version 1 read as one round, several files pooled.

A results file holds the samples of one environment, grouped in *rounds*
(separate runs of the suite, each with its own warm-up; format
``reportgen-results/2``).  Everything that combines runs goes through
:func:`pool`: the loader pooling several files of one label, ``reportgen
import`` merging several outputs of one tool, and the alternating probe runner
merging its per-round runs.  Pure functions over parsed JSON; no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

FORMAT_V1 = "reportgen-results/1"
FORMAT = "reportgen-results/2"
FORMATS = (FORMAT_V1, FORMAT)

# Agreed cap: statistics over a metric stay well under a second up to here.
MAX_SAMPLES = 10_000

# A metric's fields that must agree between the files pooled into one environment.
_SAME_IN_EVERY_ROUND = ("unit", "better", "tool", "params")


def too_many(where: str, count: int) -> str:
    """The loader's message for a metric over :data:`MAX_SAMPLES`."""
    return f"{where}: {count} samples; a metric may hold at most {MAX_SAMPLES}"


class PoolError(ValueError):
    """Files that cannot be pooled; the message names the metric and field."""


def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` in the current format: a version 1 file is one round,
    started when the file says it was collected."""
    doc = copy.deepcopy(doc)
    if doc.get("format") == FORMAT:
        return doc
    doc["format"] = FORMAT
    doc["rounds"] = [{"round": 1, "started_at": doc.get("collected_at", "")}]
    for metric in doc.get("metrics", []):
        metric["sample_rounds"] = [1] * len(metric.get("samples", []))
    return doc


def pool(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One current-format document holding the rounds of every doc, in the
    order they started (ties keep the given order), renumbered from 1.

    The first doc in that order gives the environment and system; metrics
    present in only some docs keep the rounds they have.  Raises PoolError when
    a metric was measured differently (unit, direction, tool, parameters).
    """
    if not docs:
        raise PoolError("nothing to pool")
    upgraded = [upgrade(d) for d in docs]
    runs = sorted(((r["started_at"], i, r["round"]) for i, d in enumerate(upgraded)
                   for r in d["rounds"]), key=lambda run: (run[0], run[1], run[2]))
    number = {(i, old): new for new, (_, i, old) in enumerate(runs, start=1)}
    first = upgraded[runs[0][1]]
    pooled = {k: copy.deepcopy(v) for k, v in first.items() if k not in ("rounds", "metrics")}
    pooled["rounds"] = [{"round": number[(i, old)], "started_at": started}
                        for started, i, old in runs]
    pooled["collected_at"] = min((d.get("collected_at", "") for d in upgraded), default="")
    if not pooled["collected_at"]:
        pooled.pop("collected_at")
    pooled["metrics"] = _pool_metrics(upgraded, number)
    return pooled


def _pool_metrics(docs: Sequence[dict[str, Any]], number: dict[tuple[int, int], int]
                  ) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for i, doc in enumerate(docs):
        for metric in doc.get("metrics", []):
            into = merged.get(metric["id"])
            if into is None:
                into = merged[metric["id"]] = copy.deepcopy(metric)
                into["samples"], into["sample_rounds"] = [], []
            else:
                _check_alike(into, metric)
            if metric.get("status") == "ok":
                into["samples"] += metric["samples"]
                into["sample_rounds"] += [number[(i, r)] for r in metric["sample_rounds"]]
                if into.get("status") != "ok":  # an earlier file failed this metric
                    into["status"] = "ok"
                    into.pop("error", None)
    for metric in merged.values():
        # samples in round order, and within a round in the order they were taken
        order = sorted(range(len(metric["samples"])), key=lambda k: metric["sample_rounds"][k])
        metric["samples"] = [metric["samples"][k] for k in order]
        metric["sample_rounds"] = [metric["sample_rounds"][k] for k in order]
    return list(merged.values())


def _check_alike(a: dict[str, Any], b: dict[str, Any]) -> None:
    for key in _SAME_IN_EVERY_ROUND:
        if a.get(key) != b.get(key):
            raise PoolError(f"metric '{a['id']}' was measured with a different {key} "
                            f"({_show(a.get(key))} and {_show(b.get(key))})")


def _show(value: Any) -> str:
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)
