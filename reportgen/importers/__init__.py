"""`reportgen import`: one results file from the output of a tool people already use.

Each module reads one tool's output into a results document of one round (a
sysbench log of several alike runs: one round per run; see docs/import.md for
what each reads and how it names metrics); several
files of one tool are pooled as rounds by :func:`reportgen.read.results.pool`, and
the file is written only once the loader has read it back without a problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.core import atomic, errors
from reportgen.core.errors import InputError, Problem, ReportgenError
from reportgen.importers import fio, hyperfine, pts, sysbench
from reportgen.importers.common import Imported, Options, Source, read_source
from reportgen.read import results

Reader = Callable[[Source, str, Options], Imported]
READERS: dict[str, Reader] = {"fio": fio.read, "sysbench": sysbench.read,
                              "hyperfine": hyperfine.read, "pts": pts.read}
TOOL_NAMES = {"fio": "fio", "sysbench": "sysbench", "hyperfine": "hyperfine",
              "pts": "Phoronix Test Suite"}


class ImportFailure(ReportgenError):
    """A command-line problem of `reportgen import` (exit status 2, one line)."""


@dataclass(frozen=True)
class Done:
    doc: dict[str, Any]
    warnings: tuple[Problem, ...]


def import_files(tool: str, paths: Sequence[Path], label: str, options: Options) -> Done:
    """One results document from ``paths``, each file one round; raises InputError
    with one line per bad file, ImportFailure when the rounds do not pool."""
    problems: list[Problem] = []
    read: list[tuple[Source, Imported]] = []
    for path in paths:
        shown = errors.display(path)
        try:
            source = read_source(path, shown)
            twin = next((s for s, _ in read if s.sha256 == source.sha256), None)
            if twin is not None:
                raise source.fail(f"the same content as {twin.shown}: each round may be "
                                  "imported once")
            read.append((source, READERS[tool](source, label, options)))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    try:
        doc = results.pool([imported.doc for _, imported in read])
    except results.PoolError as exc:
        names = ", ".join(source.shown for source, _ in read)
        raise ImportFailure(f"{names}: cannot be pooled as rounds of one environment: "
                            f"{exc}") from None
    versions = list(dict.fromkeys(i.version for _, i in read if i.version))
    provenance: dict[str, Any] = {"tool": TOOL_NAMES[tool]}
    if versions:
        provenance["tool_version"] = ", ".join(versions)
    provenance["files"] = [{"name": s.name, "sha256": s.sha256} for s, _ in read]
    doc["provenance"] = provenance
    return Done(doc, tuple(w for _, i in read for w in i.warnings))


def write(doc: dict[str, Any], out: Path) -> None:
    """Write ``doc`` to ``out`` whole or not at all, after the loader has read it
    back (the proof that `build` and `new` will accept it)."""
    shown = errors.display(out)
    if not out.parent.is_dir():
        raise ImportFailure(f"{shown}: the directory {errors.display(out.parent)} does not exist")
    if out.is_dir():
        raise ImportFailure(f"{shown}: is a directory; name the results file to write")
    data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    # 0600: the mode import has always given its files (it wrote them with mkstemp)
    with atomic.replacing(out, data, mode=0o600) as temporary:
        try:
            results.load_results(temporary, out.name)
        except InputError as exc:  # name the file being written, not its temporary twin
            raise InputError([Problem(shown, p.line, p.col, p.message, p.warning)
                              for p in exc.problems]) from None
