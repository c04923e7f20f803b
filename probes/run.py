#!/usr/bin/env python3
"""reportgen probes: measure this machine and write a results JSON file.

    python3 probes/run.py --label guest -o guest.json [--profile quick]

Standard library only (Python >= 3.8), runnable from any directory without
installing reportgen; `reportgen probe` calls main() with the same arguments.
See docs/probes.md.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import re
import shutil
import signal
import stat
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from typing import Any, NoReturn, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import probe_cbuild as chelper
import probe_commands as commands
import probe_parsers as parsers
import probe_sysinfo as sysinfo
from probe_commands import ProbeError, ProbeSkipped, ProbeTimeout
from probe_workloads import PROFILES, WORKLOADS, Context, Plan, Workload

PROBE_VERSION = "0.2.0"  # 0.2.0: per-thread sysbench blocks, disk writes in place
FORMAT = "reportgen-results/2"
LABEL = re.compile(r"^[a-z][a-z0-9_-]*$")
HELPER_FAMILIES = ("cpu.", "syscall.", "process.")


class UsageError(Exception):
    """Bad arguments: one line on stderr, exit status 2."""


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP; a BaseException so no probe's handler swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Signals:
    """Turn the first SIGINT/SIGTERM/SIGHUP into Interrupted; later ones are
    noted only, so that cleaning up and writing the results cannot be cut short.

    The rule of reportgen/core/signals.py, which the probes cannot import:
    these three signals, exit status 128 + the signal's number (130, 143,
    129) and one line naming the signal (the progress note)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.raising = True
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                self.previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread: run without handlers
                pass

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is None:
            self.received = signum
        if self.raising:
            self.raising = False
            commands.interrupt(Interrupted(signum))

    def hold(self) -> None:
        self.raising = False

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def plural(count: int, word: str) -> str:
    """``1 round``, ``3 rounds``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


class Progress:
    """One line per step on stderr; rewritten in place on a terminal.

    ``round_of`` ("3/5") stands for the round numbers when this run is one
    round of reportgen probe's alternating run (--round-of)."""

    def __init__(self, total: int, quiet: bool, round_of: str | None = None) -> None:
        self.total = total
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.round_of = round_of

    def round(self, number: int, rounds: int) -> str:
        """``round 2/5``: this run's round, or the alternating run's."""
        return "round " + (self.round_of or f"{number}/{rounds}")

    def _emit(self, text: str, final: bool) -> None:
        if self.quiet:
            return
        try:
            if self.tty:
                sys.stderr.write("\r\033[K" + text + ("\n" if final else ""))
            else:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except OSError:  # a closed pipe (`| head`) must not stop the run: go quiet
            self.quiet = True

    def step(self, index: int, metric_id: str, what: str, elapsed: float) -> None:
        self._emit(f"[{index}/{self.total}] {metric_id}  {what}  {elapsed:.1f}s", final=False)

    def done(self, index: int, metric: dict[str, Any]) -> None:
        if metric["status"] == "ok" and metric["samples"]:
            what = "ok  median {:.4g} {}, {} in {}".format(
                statistics.median(metric["samples"]), metric["unit"],
                plural(len(metric["samples"]), "sample"),
                plural(len(set(metric["sample_rounds"])), "round"))
        else:
            what = "{}: {}".format(metric["status"], metric.get("error", ""))
        self._emit(f"[{index}/{self.total}] {metric['id']}  {what}  "
                   f"{metric.get('duration_s', 0.0):.1f}s", final=True)

    def note(self, text: str) -> None:
        self._emit("note: " + text, final=True)


class Clock:
    """Time left for the probe that is running."""

    def __init__(self) -> None:
        self.deadline = 0.0

    def start(self, limit: float) -> float:
        now = time.monotonic()
        self.deadline = now + limit
        return now

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def make_parser() -> Parser:
    parser = Parser(prog="probes/run.py",
                    description="Measure the seed's workloads and write reportgen results JSON.")
    parser.add_argument("--label",
                        help="environment label, e.g. native or guest ([a-z][a-z0-9_-]*)")
    parser.add_argument("--description", help="one line about the environment "
                        "(default: OS, virtualization and CPU count)")
    parser.add_argument("-o", "--output", help="results file (default: LABEL.json)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="standard")
    parser.add_argument("--only", nargs="+", metavar="ID",
                        help="run only these metrics (ids or shell patterns, e.g. 'disk.*')")
    parser.add_argument("--workdir", help="existing directory for the disk probes' file "
                        "(default: a new temporary directory)")
    parser.add_argument("--threads", type=int, help="N for the tN sysbench metrics "
                        "(default: online CPUs)")
    parser.add_argument("--timeout", type=float, help="time limit per probe and round, "
                        "seconds (default: by profile)")
    parser.add_argument("--rounds", type=int, help="how many times to run the suite, each "
                        "round with its own warm-up (default: by profile)")
    parser.add_argument("--samples", type=int, help="samples per probe and round "
                        "(default: by profile)")
    parser.add_argument("--warmup", type=int, help="warm-up runs per probe and round "
                        "(default: by profile)")
    parser.add_argument("--file-size", type=int, metavar="MIB",
                        help="size of the disk probes' file (default: by profile)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply iteration counts and sizes (tests use 0.01)")
    parser.add_argument("--no-sysbench", action="store_true",
                        help="use the built-in memory loop even if sysbench is installed")
    parser.add_argument("--python-fallback", action="store_true",
                        help="do not build the C helper; time loops in Python")
    parser.add_argument("--hostname", action="store_true",
                        help="record this machine's host name (off by default)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--list", action="store_true", help="list the metrics and exit")
    # reportgen probe --env: this run is round N of R of an alternating run, into
    # a scratch file that is pooled afterwards: show N/R, do not announce the file.
    parser.add_argument("--round-of", metavar="N/R", help=argparse.SUPPRESS)
    return parser


def planned_rounds(argv: Sequence[str]) -> int:
    """How many rounds a run with these arguments takes: --rounds, else its
    profile's.  reportgen probe --env runs that many alternating rounds."""
    args, _ = make_parser().parse_known_args(list(argv))
    if args.rounds is not None and args.rounds <= 0:
        raise UsageError("--rounds must be positive")
    return args.rounds or PROFILES[args.profile].rounds


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    args = make_parser().parse_args(list(argv))
    if args.list:
        return args
    if args.label is None:
        raise UsageError("--label is required (e.g. --label native or --label guest)")
    if not LABEL.match(args.label):
        raise UsageError(f"invalid label {args.label!r}: use lower-case letters, digits, '-' and '_', "
                         "starting with a letter")
    for name in ("rounds", "threads", "samples", "file_size", "timeout"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise UsageError("--{} must be positive".format(name.replace("_", "-")))
    if args.warmup is not None and args.warmup < 0:
        raise UsageError("--warmup must not be negative")
    if not 0 < args.scale <= 1000:
        raise UsageError("--scale must be in (0, 1000]")
    if args.round_of is not None and not re.match(r"^[1-9][0-9]*/[1-9][0-9]*$", args.round_of):
        raise UsageError("--round-of expects N/R, e.g. 3/5")
    return args


def select(patterns: list[str] | None) -> list[Workload]:
    """Workloads in their fixed order, filtered by --only."""
    if not patterns:
        return list(WORKLOADS)
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(w.id, pattern) for w in WORKLOADS):
            raise UsageError(f"--only {pattern} matches no metric (see --list)")
    return [w for w in WORKLOADS if any(fnmatch.fnmatchcase(w.id, p) for p in patterns)]


def make_workdir(requested: str | None) -> str:
    """A private directory for this run, inside --workdir if given."""
    if requested is None:
        return tempfile.mkdtemp(prefix="reportgen-probes-")
    try:
        mode = os.stat(requested).st_mode
    except OSError as exc:
        raise UsageError(f"--workdir {requested}: {exc.strerror}")
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        raise UsageError(f"--workdir {requested} is a device, not a directory")
    if not stat.S_ISDIR(mode):
        raise UsageError(f"--workdir {requested} is not a directory")
    try:
        return tempfile.mkdtemp(prefix="reportgen-probes-", dir=requested)
    except OSError as exc:
        raise UsageError(f"--workdir {requested}: {exc.strerror}")


def online_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def make_context(args: argparse.Namespace, selected: list[Workload], workdir: str,
                 clock: Clock, progress: Progress) -> Context:
    profile = PROFILES[args.profile]
    overrides = {"rounds": args.rounds, "samples": args.samples,
                 "sysbench_samples": args.samples,
                 "warmup": args.warmup, "timeout_s": args.timeout,
                 "file_mib": args.file_size}
    profile = profile._replace(**{k: v for k, v in overrides.items() if v is not None})
    sysbench = None if args.no_sysbench else shutil.which("sysbench")
    sysbench_version = ""
    if sysbench:
        line = commands.version_line([sysbench, "--version"]) or ""
        sysbench_version = parsers.parse_sysbench_version(line) or "unknown"
    dd = shutil.which("dd")
    helper = None
    wants_helper = any(w.id.startswith(HELPER_FAMILIES) or
                       (w.id.startswith("memory.sysbench.") and not sysbench) for w in selected)
    if wants_helper and not args.python_fallback:
        helper, notes = chelper.build(workdir)
        for note in notes:
            progress.note(note)
    filesystem = sysinfo.filesystem_type(workdir)
    if filesystem in sysinfo.MEMORY_FILESYSTEMS and any(w.id.startswith("disk.")
                                                        for w in selected):
        progress.note(f"{os.path.dirname(workdir)} is on {filesystem}: the disk probes will measure memory; use --workdir")
    return Context(profile=profile, workdir=workdir, threads=args.threads or online_cpus(),
                   scale=args.scale,
                   file_bytes=max(1 << 20, int(profile.file_mib * args.scale) << 20),
                   helper=helper, sysbench=sysbench, sysbench_version=sysbench_version,
                   dd=dd, dd_version=sysinfo.dd_version(dd) if dd else "",
                   filesystem=filesystem or "", remaining=clock.remaining)


def new_metric(workload: Workload) -> dict[str, Any]:
    return {"id": workload.id, "name": workload.name, "unit": workload.unit,
            "better": workload.better, "samples": [], "sample_rounds": [],
            "status": "skipped", "error": "not run"}


class Probe:
    """One workload across the rounds: its entry in the results, and how far
    it got in the current round."""

    def __init__(self, workload: Workload, index: int) -> None:
        self.workload = workload
        self.index = index
        self.metric = new_metric(workload)
        self.finished = False  # failed, timed out or skipped: no further rounds
        self.plan: Plan | None = None  # prepared and warmed up in this round
        self.taken = 0  # samples taken in this round
        self.spent = 0.0  # seconds used in this round: the time limit is per round
        self.duration = 0.0  # seconds used in all rounds

    def begin_round(self) -> None:
        self.plan, self.taken, self.spent = None, 0, 0.0

    @property
    def waiting(self) -> bool:
        """Has more to measure in this round."""
        return not self.finished and (self.plan is None or self.taken < self.plan.samples)


def step(probe: Probe, round_no: int, ctx: Context, clock: Clock, progress: Progress) -> None:
    """The probe's next step in this round: the first prepares it and runs its
    warm-up, and every step takes one sample.

    Any failure ends this probe, for this round and the later ones; Interrupted
    goes up to the caller.
    """
    workload, metric = probe.workload, probe.metric
    begin = clock.start(ctx.profile.timeout_s - probe.spent)

    def show(what: str) -> None:
        progress.step(probe.index, workload.id,
                      f"{progress.round(round_no, ctx.profile.rounds)}  {what}",
                      probe.spent + time.monotonic() - begin)

    try:
        if probe.plan is None:
            show("preparing")
            probe.plan = workload.prepare(ctx)
            metric["tool"], metric["params"] = probe.plan.tool, probe.plan.params
            for i in range(probe.plan.warmup):
                show(f"warm-up {i + 1}/{probe.plan.warmup}")
                probe.plan.sample(clock.remaining())
        if probe.plan.samples > 0:
            show(f"sample {probe.taken + 1}/{probe.plan.samples}")
            value = probe.plan.sample(clock.remaining())
            metric["samples"].append(float(f"{value:.6g}"))
            metric["sample_rounds"].append(round_no)
        probe.taken += 1
    except ProbeSkipped as exc:
        end(probe, "skipped", str(exc))
    except ProbeTimeout as exc:
        end(probe, "timeout", f"{exc} (limit {ctx.profile.timeout_s:g} s per round)")
    except ProbeError as exc:
        end(probe, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug in one probe must not lose the others
        end(probe, "failed", f"{type(exc).__name__}: {exc}")
    finally:
        elapsed = time.monotonic() - begin
        probe.spent += elapsed
        probe.duration += elapsed
        metric["duration_s"] = round(probe.duration, 3)


def end(probe: Probe, status: str, error: str) -> None:
    probe.finished = True
    probe.metric.update(status=status, error=error)


def run_round(round_no: int, probes: list[Probe], ctx: Context, clock: Clock,
              progress: Progress) -> None:
    """One run of the suite: every probe prepares and warms up afresh, then the
    probes take their samples in turn (one each, round robin), so that load
    that comes and goes during the round falls on all of them alike."""
    began = time.monotonic()
    for probe in probes:
        probe.begin_round()
    waiting = [p for p in probes if p.waiting]
    while waiting:
        for probe in waiting:
            step(probe, round_no, ctx, clock, progress)
        waiting = [p for p in waiting if p.waiting]
    for probe in probes:
        if not probe.finished:
            probe.metric["status"] = "ok"
            probe.metric.pop("error", None)
    progress.note(f"{progress.round(round_no, ctx.profile.rounds)} done in "
                  f"{time.monotonic() - began:.1f}s")


# About the size of a full results file: a disk that cannot take it is full.
WRITE_CHECK_BYTES = 256 * 1024


def check_writable(output: str) -> None:
    """Before measuring: ``output``'s directory exists and takes a file of a
    results file's size, so a run is never lost for want of a place to write."""
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {output}: no such directory")
    if os.path.isdir(output):
        raise UsageError(f"cannot write {output}: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(output)}.", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as probe:
            probe.write(b"\0" * WRITE_CHECK_BYTES)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    finally:
        os.unlink(tmp)


def save(output: str, data: dict[str, Any]) -> str:
    """Write the results to ``output``; if that fails now, to a new file in the
    temporary directory, so a finished run is never lost. Returns where."""
    try:
        write_json(output, data)
        return output
    except OSError as exc:
        fd, fallback = tempfile.mkstemp(prefix="reportgen-results-", suffix=".json")
        os.close(fd)
        write_json(fallback, data)
        sys.stderr.write(f"probes/run.py: error: cannot write {output}: {exc.strerror}; "
                         f"results saved in {fallback}\n")
        return fallback


def write_json(path: str, data: dict[str, Any]) -> None:
    """Atomically: temp file in the same directory, fsync, rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    try:  # make the rename itself durable; not every system allows this
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def results(args: argparse.Namespace, started: datetime, rounds: list[dict[str, Any]],
            system: dict[str, Any], metrics: list[dict[str, Any]]) -> dict[str, Any]:
    environment = {"label": args.label,
                   "description": args.description or sysinfo.describe(system)}
    data: dict[str, Any] = {
        "format": FORMAT, "environment": environment,
        "collected_at": timestamp(started),
        # interrupted before the first round: an empty round keeps the file valid
        "rounds": rounds or [{"round": 1, "started_at": timestamp(started)}],
        "probe_version": PROBE_VERSION, "profile": args.profile,
    }
    if args.hostname:
        data["hostname"] = platform.node()
    data["system"] = system
    data["metrics"] = metrics
    return data


def measure(args: argparse.Namespace, selected: list[Workload], output: str) -> int:
    started = datetime.now(timezone.utc)
    progress = Progress(len(selected), args.quiet, args.round_of)
    signals = Signals()
    clock = Clock()
    probes = [Probe(w, index) for index, w in enumerate(selected, 1)]
    metrics = [p.metric for p in probes]
    rounds: list[dict[str, Any]] = []
    system: dict[str, Any] = {}
    workdir = make_workdir(args.workdir)
    status = 0
    signals.install()
    try:
        ctx = make_context(args, selected, workdir, clock, progress)
        system = sysinfo.collect(sysinfo.tool_versions(chelper.find_compiler(), ctx.sysbench,
                                                       ctx.dd))
        for round_no in range(1, ctx.profile.rounds + 1):
            rounds.append({"round": round_no, "started_at": timestamp(datetime.now(timezone.utc))})
            run_round(round_no, probes, ctx, clock, progress)
        for probe in probes:
            progress.done(probe.index, probe.metric)
    except Interrupted as exc:
        signals.hold()
        for metric in metrics:  # what was measured stays; the rounds say how far it got
            if metric["status"] == "skipped" and metric["error"] == "not run":
                if metric["samples"]:
                    metric["status"] = "ok"
                    metric.pop("error")
                else:
                    metric["error"] = f"interrupted by {exc}"
        progress.note(f"interrupted by {exc}: writing what was measured")
    finally:
        signals.hold()
        shutil.rmtree(workdir, ignore_errors=True)
        if not system:
            system = {"tools": {"python": platform.python_version()}}
        written = save(output, results(args, started, rounds, system, metrics))
        signals.restore()
    if signals.received is not None:
        return 128 + signals.received
    if written != output:
        return 1
    if any(m["status"] in ("failed", "timeout") for m in metrics):
        status = 1
    if args.round_of is None:  # a round's scratch file is reportgen probe's to announce
        progress.note(f"wrote {output}")
    return status


def fail(message: str) -> int:
    sys.stderr.write(f"probes/run.py: error: {message}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        if args.list:
            for w in WORKLOADS:
                print(f"{w.id:<28} {w.unit:<8} {w.name}")
            return 0
        selected = select(args.only)
        output = args.output or args.label + ".json"
        check_writable(output)
        return measure(args, selected, output)
    except UsageError as exc:
        return fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
