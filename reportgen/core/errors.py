"""Problems found in the user's input, and the exceptions that carry them.

Every message names the user's file and position, so the CLI only prints
``str(exc)``: there is no formatting code anywhere else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
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

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.path}:{self.line}:{self.col}: {kind}{self.message}"


class ReportgenError(Exception):
    """Base class: an error the CLI reports without a traceback (exit status 2)."""


class InputError(ReportgenError):
    """One or more problems in the input files; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class BuildError(ReportgenError):
    """A report could not be rendered; the message names the report and why."""


def display(path: Path) -> str:
    """How a path is shown in messages: relative to the working dir when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
