"""Rounds: environments measured too few times for a verdict.

A verdict needs MIN_ROUNDS rounds a side (analyse.compare); with fewer,
every comparison with that environment is inconclusive, whatever the
figures.  One warning per report says so, at report.yml's ``results`` (where
more files go), with the command that measures more.  It stays a warning
under --strict: it describes the measurements, not a mistake in the report.
"""

from __future__ import annotations

from reportgen.core.documents import Document
from reportgen.core.errors import Problem
from reportgen.core.model import Environment, Report


def plural(count: int, word: str) -> str:
    """``1 round``, ``3 rounds``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def needed() -> str:
    """The rule, in the words every command uses for it."""
    # numpy comes with the rules: imported once a report or a run is there
    from reportgen.analyse.compare import MIN_ROUNDS

    return f"verdicts need at least {MIN_ROUNDS} rounds per environment"


def rounds_of(env: Environment) -> int:
    """The rounds an environment's results files declare (a format 1 file has one)."""
    return len(env.rounds) or 1


def check_rounds(doc: Document, report: Report) -> list[Problem]:
    """One warning naming every environment with too few rounds, or none."""
    from reportgen.analyse.compare import MIN_ROUNDS  # numpy, as above

    short = [(env.label, rounds_of(env)) for env in report.environments
             if rounds_of(env) < MIN_ROUNDS]
    if not short:
        return []
    (label, count), *others = short
    counts = ", ".join([f"'{label}' has {plural(count, 'round')}",
                        *(f"'{other}' {n}" for other, n in others)])
    them = "it" if not others else "them"
    return [doc.problem(("results",), f"{needed()}; {counts}, so every comparison with {them} "
                                      "is inconclusive ('?'): measure more with `reportgen "
                                      f"probe --label LABEL --rounds {MIN_ROUNDS}` and add the "
                                      "files to the report's results (files of one label are "
                                      "pooled as rounds)",
                        key=True, warning=True, strict=False)]
