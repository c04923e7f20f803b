"""What `reportgen probe` says when it wrote too few rounds for a verdict.

A verdict needs MIN_ROUNDS rounds a side; with fewer, every comparison of the
report is inconclusive.  A probe run that writes fewer says so once, after
its last line, with the command that measures enough.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from reportgen.check.rounds import needed, plural
from reportgen.core.errors import display


def after_probe(files: Sequence[Path], count: int, argv: Sequence[str],
                echo: IO[str] = sys.stderr) -> None:
    """One note when ``files`` (each with ``count`` rounds) are too few for a
    verdict; ``argv`` is the command's own, repeated with enough rounds."""
    # numpy comes with the rules: imported once the probes have run, not for --help
    from reportgen.analyse.compare import MIN_ROUNDS

    if count >= MIN_ROUNDS:
        return
    names = " and ".join(display(f) for f in files)
    has = f"has {plural(count, 'round')}" if len(files) == 1 else \
        f"have {plural(count, 'round')} each"
    echo.write(f"note: {needed()}; {names} {has}: to measure {MIN_ROUNDS}, run "
               f"{again(argv, MIN_ROUNDS)}\n")
    echo.flush()


def again(argv: Sequence[str], rounds: int) -> str:
    """``reportgen probe ARGS`` with ``--rounds`` set to ``rounds``."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--rounds":
            skip = True
        elif not arg.startswith("--rounds="):
            kept.append(arg)
    return shlex.join(["reportgen", "probe", *kept, "--rounds", str(rounds)])
