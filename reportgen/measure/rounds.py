"""`reportgen probe --env NAME=WHERE ... --rounds R`: environments in alternating rounds.

Round 1 runs in every environment in the order given, then round 2, and so on
(as many rounds as the probes' profile takes unless --rounds says otherwise):
a slow drift of the machine (heat, background load, a neighbour's job) then
falls on all environments alike instead of on whichever ran last.  Each round
is one ordinary probe run into a scratch directory, told which round it is
(--round-of), so that it shows that number and does not call its scratch
file written; at the end the runs of each environment are pooled
(reportgen.read.results.pool, which keeps every round's start time) into one
results file per environment.  Nothing is written unless every round
produced a file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from reportgen.check.rounds import plural
from reportgen.core import atomic, resources
from reportgen.core.signals import Stopped
from reportgen.measure import remote
from reportgen.read.results import PoolError, pool

_LABEL = re.compile(r"^[a-z][a-z0-9_-]*$")  # as the results schema's environment label


@dataclass(frozen=True)
class Place:
    """Where one environment runs: on this machine, or over ssh."""

    name: str
    target: remote.Target | None  # None: here

    @classmethod
    def parse(cls, text: str) -> Place:
        name, sep, where = text.partition("=")
        if not sep or not _LABEL.match(name):
            raise remote.RunError(f"reportgen probe: --env {text!r}: expected NAME=local or "
                                  "NAME=ssh:[user@]host[:port], NAME as a results label "
                                  "([a-z][a-z0-9_-]*)")
        if where == "local":
            return cls(name, None)
        if where.startswith("ssh:"):
            return cls(name, remote.Target.parse(where[len("ssh:"):]))
        raise remote.RunError(f"reportgen probe: --env {text!r}: where is 'local' or "
                              "'ssh:[user@]host[:port]'")

    def __str__(self) -> str:
        return f"{self.name} ({self.target.text if self.target else 'this machine'})"


def probe_takes_rounds() -> bool:
    """Whether this reportgen's probes accept --rounds (results format 2)."""
    return probe_takes("--rounds")


def probe_takes(option: str) -> bool:
    """Whether this reportgen's probes accept ``option``."""
    return f'"{option}"' in (resources.PROBES / "run.py").read_text()


def run(places: Sequence[Place], rounds: int, out_dir: Path, probe_args: Sequence[str],
        command: Sequence[str], time_limit: float, echo: IO[str] = sys.stderr) -> int:
    """Run every place ``rounds`` times, alternating; write out_dir/NAME.json for each.

    Returns 0, or 1 when some metric failed in some round, or 128+N when
    stopped by signal N (then nothing is written).
    """
    names = [p.name for p in places]
    if len(set(names)) != len(names):
        raise remote.RunError("reportgen probe: each --env needs a name of its own")
    if rounds < 1:
        raise remote.RunError("reportgen probe: --rounds must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    once = ["--rounds", "1"] if probe_takes_rounds() else []
    numbered = probe_takes("--round-of")
    scratch = Path(tempfile.mkdtemp(prefix=".reportgen-rounds-", dir=out_dir))
    worst = 0
    try:
        runs: dict[str, list[Path]] = {name: [] for name in names}
        try:
            for number in range(1, rounds + 1):
                for place in places:
                    echo.write(f"round {number}/{rounds}: {place}\n")
                    echo.flush()
                    path = scratch / f"{place.name}-{number}.json"
                    args = [*probe_args, "--label", place.name, *once]
                    if numbered:
                        args += ["--round-of", f"{number}/{rounds}"]
                    status = _one(place, args, path, command, time_limit, echo)
                    if status not in (0, 1):
                        return status
                    worst = max(worst, status)
                    runs[place.name].append(path)
        except Stopped as stop:  # from the command's handler
            echo.write(f"reportgen probe: stopped by {stop.name}; wrote nothing\n")
            return stop.status
        pooled = {name: _pool(name, paths) for name, paths in runs.items()}
        for name, doc in pooled.items():
            atomic.write_bytes(out_dir / f"{name}.json", json.dumps(doc, indent=2).encode() + b"\n")
            echo.write(f"wrote {out_dir / name}.json ({plural(rounds, 'round')})\n")
        return worst
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _one(place: Place, args: list[str], path: Path, command: Sequence[str],
         time_limit: float, echo: IO[str]) -> int:
    if place.target is not None:
        # the scratch file is no file of the user's: the pooled one is announced
        return remote.run(place.target, command, args, path, time_limit, echo, announce=False)
    # A child process, not main() in-process: the probes' signal handlers and
    # module state stay out of this loop.
    child = subprocess.Popen([sys.executable, str(resources.PROBES / "run.py"), *args,
                              "-o", str(path)], stdin=subprocess.DEVNULL)
    try:
        status = child.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        _stop(child)
        raise remote.RunError(f"reportgen probe: {place.name}: stopped after the time limit "
                              f"of {time_limit:g} s (--time-limit); nothing written") from None
    except Stopped:
        _stop(child)
        raise
    if status in (0, 1) and not path.exists():
        raise remote.RunError(f"reportgen probe: {place.name}: the probes wrote no results")
    return status


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM, which the probes answer by removing their work files, then wait."""
    child.terminate()
    child.wait()


def _pool(name: str, paths: list[Path]) -> dict[str, object]:
    try:
        return pool([json.loads(p.read_text()) for p in paths])
    except PoolError as exc:
        raise remote.RunError(f"reportgen probe: {name}: the rounds differ: {exc}") from None
