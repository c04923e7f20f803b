"""Problems found in the user's input, and the exceptions that carry them.

Every message names the user's file and position, so the CLI only prints
``str(exc)``: there is no formatting code anywhere else.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

# C0 and C1 control characters other than newline and tab, and lone surrogates.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: each control character shown as its escape."""
    return CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    col: int
    message: str
    warning: bool = False
    strict: bool = True  # a warning that --strict turns into an error

    @staticmethod
    def escalated(warnings: list[Problem]) -> list[Problem]:
        """The warnings --strict turns into errors."""
        return [w for w in warnings if w.strict]

    @staticmethod
    def as_errors(warnings: list[Problem]) -> list[Problem]:
        """Warnings that --strict failed on, printed as the errors they now are."""
        return [replace(w, warning=False) for w in warnings]

    @property
    def kind(self) -> str:
        """What the problem says, without what varies between problems of one
        kind: a warning about another metric or file has the same kind."""
        return ("warning: " if self.warning else "") + kind(self.message)

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.path}:{self.line}:{self.col}: {kind}{self.message}"


_QUOTED = re.compile(r"'[^']*'|`[^`]*`")
_ASIDE = re.compile(r"\([^()]*\)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def kind(message: str) -> str:
    """``message`` with its quoted names, numbers and asides in parentheses
    masked: "metric '…' in '…' has unstable samples (…); ..." for every metric."""
    text = _QUOTED.sub("'…'", message)
    while True:  # innermost parentheses first
        masked = _ASIDE.sub("(…)", text)
        if masked == text:
            break
        text = masked
    return _NUMBER.sub("#", text)


def summary(problems: Sequence[Problem], verbose: bool = False) -> list[str]:
    """The lines to print for ``problems``: one per kind, the first of it with
    a count of the others, in the order the kinds first come; every problem
    with ``verbose``."""
    if verbose:
        return [str(p) for p in problems]
    kinds: dict[str, list[Problem]] = {}
    for problem in problems:
        kinds.setdefault(problem.kind, []).append(problem)
    return [str(first) + (f" (and {len(more)} more like it; --verbose lists them)" if more
                          else "")
            for first, *more in kinds.values()]


def new_since(problems: Sequence[Problem], before: Collection[Problem]) -> list[Problem]:
    """``problems`` that ``before`` did not have.  One that moved (an edit above
    it in its file) is not new: the same message in the same file is matched
    where nothing is at its exact place, as often as ``before`` had it."""
    exact = Counter(before)
    moved: list[Problem] = []
    for problem in problems:
        if exact[problem] > 0:
            exact[problem] -= 1
        else:
            moved.append(problem)
    loose = Counter((p.path, p.message, p.warning) for p in exact.elements())
    fresh = []
    for problem in moved:
        key = (problem.path, problem.message, problem.warning)
        if loose[key] > 0:
            loose[key] -= 1
        else:
            fresh.append(problem)
    return fresh


class ReportgenError(Exception):
    """Base class: an error the CLI reports without a traceback (exit status 2)."""


class InputError(ReportgenError):
    """One or more problems in the input files; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class BuildError(ReportgenError):
    """A report could not be rendered; the message names the report and why."""


class WriteRefused(Exception):
    """The system refuses a write the build needs (permission, read-only file
    system, full disk): one line naming the path and what to do, exit status 1
    like any other refused write (not 2: the input is fine)."""


def display(path: Path) -> str:
    """How a path is shown in messages: relative to the working dir when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
