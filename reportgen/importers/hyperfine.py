"""hyperfine ``--export-json``: each command's wall-clock times, in seconds.

Ids: ``hyperfine.<command>.wall``, the command as hyperfine exported it (its
``--command-name`` when given) made an id part by
:func:`~reportgen.importers.common.slug`.  The export carries neither a time
nor hyperfine's version: the round's start is the file's modification time,
and the version is what ``--tool-version`` says, if anything.
"""

from __future__ import annotations

from typing import Any

from reportgen.importers.common import (
    Imported,
    Options,
    Source,
    from_epoch,
    json_data,
    metric,
    round_document,
    slug,
    unique,
)

WHAT = "hyperfine --export-json output"


def read(source: Source, label: str, options: Options) -> Imported:
    data = json_data(source, WHAT)
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or not results:
        raise source.fail(f"not {WHAT}: no \"results\" list")
    version = options.tool_version or ""
    tool = f"hyperfine {version}".strip()
    taken: set[str] = set()
    metrics: list[dict[str, Any]] = []
    for index, result in enumerate(results):
        where = source.line_of('"results"')
        if not isinstance(result, dict) or not isinstance(result.get("command"), str):
            raise source.fail(f"not {WHAT}: results[{index}] has no \"command\"", where)
        times = result.get("times")
        if not isinstance(times, list) or not all(
                isinstance(t, (int, float)) and not isinstance(t, bool) for t in times):
            raise source.fail(f"results[{index}] has no \"times\" list of numbers (older "
                              "hyperfine releases do not export them)", where)
        command = result["command"]
        params: dict[str, Any] = {"command": command}
        if isinstance(result.get("parameters"), dict):
            params["parameters"] = result["parameters"]
        metric_id = f"hyperfine.{unique(slug(command), taken)}.wall"
        metrics.append(metric(metric_id, f"{command} (wall time)", "s", "lower",
                              [float(t) for t in times], tool, params))
    system = {"tools": {"hyperfine": version}} if version else {}
    return Imported(round_document(label, from_epoch(source.mtime), system, metrics), version)
