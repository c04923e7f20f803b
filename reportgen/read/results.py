"""Results documents as data: version 1 read as one round, several files pooled.

A results file holds the samples of one environment, grouped in *rounds*
(separate runs of the suite, each with its own warm-up; format
``reportgen-results/2``).  Everything that combines runs goes through
:func:`pool`: the loader pooling several files of one label, ``reportgen
import`` merging several outputs of one tool, and the alternating probe runner
merging its per-round runs.  A results file is read and checked here too,
for the loader, `reportgen new` and the importers alike.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.core.documents import Document, KeyPath, describe, parse_json
from reportgen.core.errors import InputError, Problem, display
from reportgen.core.model import Environment, Metric, Round
from reportgen.read import validate

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


# --- results files ----------------------------------------------------------

@dataclass(frozen=True)
class Clash:
    """A results file that cannot be pooled with an earlier one of its label."""

    earlier: int  # indices into the documents given
    later: int
    why: str

    def message(self, earlier: str, later: str, label: str) -> str:
        """Naming both files as the caller shows them."""
        return (f"results files '{earlier}' and '{later}' are both labelled "
                f"'{label}' but cannot be pooled: {self.why}")


def pool_label(docs: Sequence[dict[str, Any]], names: tuple[str, ...]
               ) -> tuple[Environment, list[Clash]]:
    """One label's checked documents (one per name) as one environment, its
    rounds pooled, and every clash found.  With a clash the environment is the
    first document alone: the build stops anyway, and the problem is reported
    once at the file that clashed, not again for every metric."""
    clashes = list(_unpoolable(docs))
    if clashes:
        return environment(docs[0], names[:1]), clashes
    return environment(docs[0] if len(docs) == 1 else pool(docs), names), clashes


def _unpoolable(docs: Sequence[dict[str, Any]]) -> Iterator[Clash]:
    """The first clash of every document with one before it."""
    for later in range(1, len(docs)):
        for earlier in range(later):
            try:
                pool([docs[earlier], docs[later]])
            except PoolError as exc:
                yield Clash(earlier, later, str(exc))
                break


def load_results(path: Path, name: str, warnings: list[Problem] | None = None
                 ) -> tuple[Environment, bytes]:
    """One results file as an environment, and its bytes; ``name`` is how the
    report refers to it. Raises InputError with every problem in the file."""
    data, content = read_results(path, warnings)
    return environment(data, (name,)), content


def read_results(path: Path, warnings: list[Problem] | None = None
                 ) -> tuple[dict[str, Any], bytes]:
    """One checked results file in the current format (see :func:`upgrade`),
    and its bytes. Raises InputError with every problem in the file. Given
    ``warnings``, adds one for each metric whose samples are unstable."""
    content = path.read_bytes()
    shown = display(path)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(shown, 1, 1, f"cannot read file: {exc}")]) from None
    doc = parse_json(text, shown)
    data = doc.data
    if not isinstance(data, dict):
        raise InputError([doc.problem((), "expected a JSON object")])
    version = data.get("format")
    if version not in FORMATS:
        what = f"unknown results format {version!r}" if "format" in data else "missing 'format'"
        known = "' and '".join(FORMATS)
        raise InputError([doc.problem(("format",), f"{what}: this reportgen reads '{known}'")])
    problems = validate.problems(doc, "results")
    if not problems:
        problems = _round_problems(doc)
    seen: set[str] = set()
    for index, raw in enumerate(data.get("metrics", [])):
        if not isinstance(raw, dict) or "id" not in raw:
            continue  # the schema has said what is wrong
        where: KeyPath = ("metrics", index)
        if raw["id"] in seen:
            problems.append(doc.problem(where + ("id",), f"metric '{raw['id']}' appears twice"))
        if len(raw.get("samples", [])) > MAX_SAMPLES:
            problems.append(doc.problem(where + ("samples",), too_many(
                describe(where + ("samples",)), len(raw["samples"]))))
        if raw.get("status") == "ok" and not raw.get("samples"):
            problems.append(doc.problem(where + ("samples",),
                                        f"{describe(where)}: status is 'ok' but there are no "
                                        "samples"))
        seen.add(raw["id"])
    if problems:
        raise InputError(problems)
    current = upgrade(data)
    if warnings is not None:
        warnings.extend(_unstable(doc, environment(current, (display(path),))))
    return current, content


def _unstable(doc: Document, env: Environment) -> list[Problem]:
    """A warning at each metric whose samples are unstable (core.stability);
    --strict leaves it a warning: it describes the machine, not a mistake."""
    from reportgen.core.stability import stability  # numpy: only when a report is loaded

    found = []
    for index, metric in enumerate(env.metrics.values()):
        steady = stability(metric.samples)
        if steady.unstable:
            found.append(doc.problem(("metrics", index, "samples"),
                                     f"metric '{metric.id}' in '{env.label}' has unstable "
                                     f"samples ({steady.describe()}); its verdicts may be "
                                     "inconclusive", warning=True, strict=False))
    return found


def environment(data: dict[str, Any], names: tuple[str, ...]) -> Environment:
    """A validated current-format results document as the model's environment."""
    env = data["environment"]
    return Environment(
        label=env["label"], description=env.get("description", ""),
        collected_at=data.get("collected_at", ""), system=data.get("system", {}),
        metrics={raw["id"]: _metric(raw) for raw in data["metrics"]}, file_name=names[0],
        probe_version=data.get("probe_version", ""), profile=data.get("profile", ""),
        rounds=tuple(Round(r["round"], r["started_at"]) for r in data["rounds"]),
        file_names=names,
    )


def _round_problems(doc: Document) -> list[Problem]:
    """Version 2: every sample has a round, and every round is declared once."""
    data = doc.data
    if data["format"] != FORMAT:
        return []
    declared = [r["round"] for r in data["rounds"]]
    problems = [doc.problem(("rounds", i, "round"), f"round {n} is declared twice")
                for i, n in enumerate(declared) if n in declared[:i]]
    for index, raw in enumerate(data["metrics"]):
        where: KeyPath = ("metrics", index, "sample_rounds")
        if len(raw["sample_rounds"]) != len(raw["samples"]):
            problems.append(doc.problem(where, f"{describe(where)}: {len(raw['sample_rounds'])} "
                                               f"rounds for {len(raw['samples'])} samples"))
        unknown = sorted(set(raw["sample_rounds"]) - set(declared))
        if unknown:
            problems.append(doc.problem(where, f"{describe(where)}: round {unknown[0]} is not "
                                               "declared under 'rounds'"))
    return problems


def _metric(raw: dict[str, Any]) -> Metric:
    return Metric(id=raw["id"], name=raw.get("name", raw["id"]), unit=raw.get("unit", ""),
                  better=raw.get("better", "lower"),
                  samples=tuple(float(x) for x in raw.get("samples", [])),
                  status=raw.get("status", "ok"), tool=raw.get("tool", ""),
                  params=raw.get("params", {}), error=raw.get("error", ""),
                  rounds=tuple(raw.get("sample_rounds", [])))
