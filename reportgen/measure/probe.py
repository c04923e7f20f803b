"""`reportgen probe`: the standalone probe runner in probes/, here or elsewhere.

The probes stay standard-library scripts so they can run in a bare guest
without reportgen.  Without options of its own this front end only finds
run.py and calls it in-process; it adds writing the probes as one file
(--bundle), running them over ssh (--ssh) and alternating rounds between
environments (--env ... --rounds R).  Every other option goes to run.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from reportgen.core import resources
from reportgen.measure import advice, bundle, remote, rounds

PROBES = resources.PROBES / "run.py"
DEFAULT_TIME_LIMIT = 6 * 3600.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise remote.RunError(f"reportgen probe: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reportgen probe", add_help=False, allow_abbrev=False,
                     description="Options of reportgen probe itself (the rest go to the "
                                 "probes, listed above).")
    parser.add_argument("--bundle", metavar="FILE", type=Path,
                        help="write the probes as one file (python3 FILE --label NAME ...) "
                             "and exit")
    parser.add_argument("--ssh", metavar="[USER@]HOST[:PORT]",
                        help="run the probes on that machine through ssh")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=WHERE",
                        help="an environment for alternating rounds: NAME=local or "
                             "NAME=ssh:[user@]host[:port]; repeat for each")
    parser.add_argument("--rounds", type=int,
                        help="with --env: how many rounds each environment runs (default: "
                             "the profile's, as without --env)")
    parser.add_argument("--ssh-command", metavar="COMMAND",
                        help="the ssh command and its options (default: "
                             f"${remote.SSH_COMMAND_ENV}, else ssh)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                        metavar="SECONDS",
                        help="stop a run over ssh, or a round, after this long "
                             f"(default {DEFAULT_TIME_LIMIT:g})")
    # Read here too (the remote and round runs need them), described above.
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("-o", "--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("-h", "--help", action="store_true", help=argparse.SUPPRESS)
    return parser


def run(argv: list[str]) -> int:
    parser = _parser()
    front, rest = parser.parse_known_args(argv)
    if front.help:
        try:
            _local(["--help"])
        except SystemExit:  # argparse's --help ends with it
            pass
        print("\n" + parser.format_help().replace("usage: reportgen probe", "also:", 1))
        return 0
    if front.bundle is not None:
        bundle.write(front.bundle)
        print(f"wrote {front.bundle}: run it as python3 {front.bundle} --label NAME",
              file=sys.stderr)
        return 0
    if front.env:
        if front.ssh or front.label:
            raise remote.RunError("reportgen probe: --env names each environment; "
                                  "it goes without --ssh and --label")
        places = [rounds.Place.parse(text) for text in front.env]
        out_dir = front.output or Path(".")
        count = front.rounds if front.rounds is not None else _planned_rounds(rest)
        status = rounds.run(places, count, out_dir, rest,
                            remote.ssh_command(front.ssh_command), front.time_limit)
        if status in (0, 1):
            advice.after_probe([out_dir / f"{p.name}.json" for p in places], count, argv)
        return status
    if front.rounds is not None:
        rest += ["--rounds", str(front.rounds)]
    started = time.time()
    if front.ssh:
        status = _remote(front, rest)
        output: Path = front.output or Path(f"{front.label}.json")
    else:
        if front.label is not None:
            rest += ["--label", front.label]
        if front.output is not None:
            rest += ["-o", str(front.output)]
        status = _local(rest)
        output = front.output or Path(f"{front.label}.json")
    if status in (0, 1) and front.label is not None:
        _advise(output, started, argv)
    return status


def _advise(output: Path, started: float, argv: list[str]) -> None:
    """The rounds advice for a file this run wrote (not an older one left in
    place when the write failed)."""
    try:
        if output.stat().st_mtime < started - 1:
            return
        count = len(json.loads(output.read_bytes()).get("rounds") or [None])
    except (OSError, ValueError, AttributeError):
        return
    advice.after_probe([output], count, argv)


def _planned_rounds(probe_args: list[str]) -> int:
    """The rounds the probes would run with these arguments (--profile's),
    which an alternating run takes when --rounds does not say."""
    module = _runner()
    try:
        count: int = module.planned_rounds(probe_args)
    except module.UsageError as exc:
        raise remote.RunError(f"reportgen probe: {exc}") from None
    return count


def _remote(front: argparse.Namespace, rest: list[str]) -> int:
    target = remote.Target.parse(front.ssh)
    if front.label is None:
        raise remote.RunError("reportgen probe: --label is required (e.g. --label guest)")
    output: Path = front.output or Path(f"{front.label}.json")
    if not output.parent.is_dir():
        raise remote.RunError(f"reportgen probe: cannot write {output}: no such directory")
    return remote.run(target, remote.ssh_command(front.ssh_command),
                      [*rest, "--label", front.label], output, front.time_limit)


def _runner() -> Any:
    """probes/run.py as a module (it is no part of the package)."""
    spec = importlib.util.spec_from_file_location("reportgen_probes_run", PROBES)
    if spec is None or spec.loader is None:
        raise SystemExit(f"reportgen: cannot find the probe runner at {PROBES}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _local(argv: list[str]) -> int:
    result: int = _runner().main(argv)
    return result
