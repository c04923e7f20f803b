"""hyperfine ``--export-json`` (hyperfine 1.0 and later): each command's wall-clock
times, in seconds.

Ids: ``hyperfine.<command>.wall``, the command as hyperfine exported it (its
``--command-name`` when given) made an id part by
:func:`~reportgen.importers.common.slug`, whole up to ID_LIMIT characters.
The export carries neither a time, nor hyperfine's version, nor the shell:
the round's start is the file's modification time, and the version and shell
are what ``--tool-version`` and ``--shell`` say.

A run hyperfine recorded with a non-zero exit code (it keeps those only under
``-i``) makes the metric failed unless ``--keep-failed-runs``; a run recorded
as 0 s (quicker than the shell it subtracts, or than the timer) is left out
with a warning while more than half the runs remain.
"""

from __future__ import annotations

import json
from typing import Any

from reportgen.core.errors import Problem
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

WHAT = "hyperfine --export-json output"
# Commands are long: ids keep up to this many characters before they are cut
# and given a hash, so a placeholder stays short enough to type.
ID_LIMIT = 100
ADVICE = "measure so short a command without a shell (hyperfine -N) or make it longer"


def read(source: Source, label: str, options: Options) -> Imported:
    data = json_data(source, WHAT)
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or not results:
        raise source.fail(f"not {WHAT}: no \"results\" list")
    version = options.tool_version or ""
    tool = f"hyperfine {version}".strip()
    taken: set[str] = set()
    metrics: list[dict[str, Any]] = []
    warnings: list[Problem] = []
    for index, result in enumerate(results):
        command, times, codes = _checked(source, index, result)
        metric_id = f"hyperfine.{unique(slug(command, ID_LIMIT), taken)}.wall"
        name, params = f"{command} (wall time)", _params(result, options)
        samples, said = _runs_of(command, times, codes, options.keep_failed)
        metrics.append(failed(metric_id, name, "s", "lower", tool, params, samples)
                       if isinstance(samples, str)
                       else metric(metric_id, name, "s", "lower", samples, tool, params))
        at = source.line_of(f'"command": {json.dumps(command, ensure_ascii=False)}')
        warnings.extend(Problem(source.shown, at, 1, message, warning=True) for message in said)
    system = {"tools": {"hyperfine": version}} if version else {}
    return Imported(round_document(label, from_epoch(source.mtime), system, metrics), version,
                    tuple(warnings))


def _checked(source: Source, index: int, result: Any) -> tuple[str, list[float], list[Any]]:
    """The command, times and exit codes of ``results[index]``, or why not."""
    where = source.line_of('"results"')
    if not isinstance(result, dict) or not isinstance(result.get("command"), str):
        raise source.fail(f"not {WHAT}: results[{index}] has no \"command\"", where)
    times = result.get("times")
    if not isinstance(times, list) or not all(_seconds(t) for t in times):
        raise source.fail(f"results[{index}] has no \"times\" list of numbers", where)
    codes = result.get("exit_codes", [0] * len(times))  # hyperfine < 1.12 records none
    if not isinstance(codes, list) or len(codes) != len(times):
        raise source.fail(f"results[{index}] has {len(times)} \"times\" but not as many "
                          "\"exit_codes\"", where)
    return result["command"], [float(t) for t in times], codes


def _runs_of(command: str, times: list[float], codes: list[Any], keep_failed: bool
             ) -> tuple[list[float] | str, list[str]]:
    """The samples, or why the metric failed; and the warnings."""
    said: list[str] = []
    failures = [c for c in codes if c != 0]
    if failures and not keep_failed:
        return (f"the command failed in {_runs(failures, len(codes))}: give "
                "--keep-failed-runs to import such runs anyway"), said
    if failures:
        said.append(f"'{command}': kept {_runs(failures, len(codes))} in which the command "
                    "failed (--keep-failed-runs)")
    kept = [t for t in times if t != 0]
    zeros = len(times) - len(kept)
    if zeros and 2 * len(kept) <= len(times):
        return (f"{zeros} of {len(times)} runs took 0 s (below what hyperfine can time), too "
                f"many to leave out: {ADVICE}"), said
    if zeros:
        said.append(f"'{command}': left out {zeros} of {len(times)} runs that took 0 s (below "
                    f"what hyperfine can time): {ADVICE}")
    return kept, said


def _seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _params(result: dict[str, Any], options: Options) -> dict[str, Any]:
    """command, the scan's parameters (hyperfine 1.11 on: ``parameters``, by
    name; 1.6 to 1.10: one ``parameter``, unnamed) and the shell."""
    params: dict[str, Any] = {"command": result["command"]}
    if isinstance(result.get("parameters"), dict):
        params["parameters"] = result["parameters"]
    elif "parameter" in result:
        params["parameter"] = str(result["parameter"])
    params["shell"] = options.shell or "default"
    return params


def _runs(codes: list[Any], total: int) -> str:
    """``10 of 10 runs (exit code 3)``, of the runs whose command failed."""
    numbers = sorted(c for c in codes if isinstance(c, int))
    shown = [str(c) for c in dict.fromkeys(numbers)] + (["none"] if None in codes else [])
    kind = "code" if len(shown) == 1 else "codes"
    return f"{len(codes)} of {total} runs (exit {kind} {', '.join(shown)})"
