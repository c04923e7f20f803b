"""The seed's workloads: what each one runs, with which parameters.

A workload's `prepare` returns a Plan: the tool and parameters to record and
a `sample(timeout) -> value` function.  The runner (run.py) owns rounds,
warm-up, repetition, time limits and progress, identically for every workload.
"""
from __future__ import annotations

import os
import statistics
import sys
from typing import Callable, NamedTuple

import probe_commands as commands
import probe_parsers as parsers
from probe_commands import ProbeError, ProbeSkipped

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "probe_worker.py")
MB = 1000 * 1000  # dd and disk throughput: decimal megabytes, as dd prints them
MIB = 1024 * 1024  # sysbench throughput: binary megabytes, as sysbench prints them
DATA_FILE = "probe-data.bin"
FREE_MARGIN = 32 * MIB  # left free beyond the test file, so we never fill a disk


class Profile(NamedTuple):
    """How long to measure.  Counts are per round; the suite runs `rounds` times."""

    name: str
    rounds: int
    samples: int
    warmup: int
    sysbench_samples: int
    sysbench_time_s: int
    cpu_iterations: int
    getpid_iterations: int
    fork_iterations: int
    file_mib: int
    timeout_s: float


# Rounds, then counts per round.  A verdict needs 5 rounds a side, so even
# quick takes 5 (a little over a minute on 2 cores; sysbench's whole seconds
# dominate).  Standard takes 10: with 5, a lone 1.5x slowdown of a metric
# whose rounds swing between two levels is found in only about a third of
# reports (docs/formats.md, "Comparison rules"; benchmarks/calibration).
# The time limit is per probe and round.
PROFILES = {
    "quick": Profile("quick", 5, 3, 1, 2, 1, 20000000, 500000, 300, 64, 30),
    "standard": Profile("standard", 10, 5, 2, 2, 3, 100000000, 5000000, 2000, 256, 300),
    "thorough": Profile("thorough", 20, 10, 2, 3, 5, 100000000, 10000000, 5000, 1024, 1800),
}


class Context(NamedTuple):
    profile: Profile
    workdir: str  # the run's private directory; every file goes here
    threads: int
    scale: float  # < 1 only in tests: shrinks iteration counts and sizes
    file_bytes: int
    helper: str | None  # compiled C helper, or None: Python fallback
    sysbench: str | None
    sysbench_version: str
    dd: str | None
    dd_version: str
    filesystem: str  # type of the file system holding workdir, "" if unknown
    remaining: Callable[[], float]  # seconds left for the current probe

    def scaled(self, count: int) -> int:
        return max(1, int(count * self.scale))


class Plan(NamedTuple):
    tool: str
    params: dict[str, object]
    sample: Callable[[float], float]
    samples: int
    warmup: int


class Workload(NamedTuple):
    id: str
    name: str
    unit: str
    better: str
    prepare: Callable[[Context], Plan]


def _python(*args: str) -> list[str]:
    return [sys.executable, WORKER] + list(args)


def _loop(ctx: Context, mode: str, iterations: int, per_run: bool, ns_per_unit: float,
          python_divisor: int = 1) -> Plan:
    """A timed loop of the C helper (or the Python worker): cpu, getpid, fork.

    The value is elapsed ns per iteration, or per whole run (`per_run`, for
    cpu.integer), divided by `ns_per_unit`.  The Python fallback may run
    fewer iterations (`python_divisor`) and extrapolates linearly.
    """
    params: dict[str, object] = {"iterations": iterations}
    if ctx.helper:
        argv, tool, measured = [ctx.helper, mode, str(iterations)], "c-helper", iterations
    else:
        measured = max(1, iterations // python_divisor)
        argv, tool = _python(mode, str(measured)), "python-fallback"
        if measured != iterations:
            params["measured_iterations"] = measured

    def sample(timeout: float) -> float:
        elapsed_ns = commands.numbers(commands.run(argv, timeout).stdout, 1)[0]
        per_iteration = elapsed_ns / measured
        return per_iteration * (iterations if per_run else 1) / ns_per_unit

    p = ctx.profile
    return Plan(tool, params, sample, p.samples, p.warmup)


def cpu_integer(ctx: Context) -> Plan:
    plan = _loop(ctx, "cpu", ctx.scaled(ctx.profile.cpu_iterations), True, 1e6, 200)
    plan.params["kernel"] = "64-bit LCG step, xorshift, modulo; integer only"
    return plan


def syscall_getpid(ctx: Context) -> Plan:
    plan = _loop(ctx, "getpid", ctx.scaled(ctx.profile.getpid_iterations), False, 1.0)
    plan.params["call"] = "syscall(SYS_getpid)" if ctx.helper else "os.getpid()"
    return plan


def process_fork_wait(ctx: Context) -> Plan:
    plan = _loop(ctx, "fork", ctx.scaled(ctx.profile.fork_iterations), False, 1e3)
    plan.params["child"] = "_exit(0) at once; parent waitpid()"
    return plan


DD_BLOCK = 1 << 20
DD_COUNT = 256


def memory_dd_zero(ctx: Context) -> Plan:
    """dd if=/dev/zero of=/dev/null, timed by the probe, so any dd will do.

    The time is the CPU time the kernel charged to dd (this copy is all
    CPU: zero-fill in the kernel, a no-op write), less the median of runs
    copying nothing, which leaves out exec, start-up and exit.  Unlike a
    wall clock around a ~10 ms process, it does not count the moments other
    load on the machine held the CPU.
    """
    if not ctx.dd:
        raise ProbeSkipped("dd not found in PATH")
    count = DD_COUNT  # not scaled: cheap, and fewer blocks drown in start-up costs

    def dd_cpu(blocks: int, timeout: float) -> float:
        argv = [ctx.dd or "dd", "if=/dev/zero", "of=/dev/null", f"bs={DD_BLOCK}",
                f"count={blocks}"]
        return commands.run(argv, timeout).cpu_s

    startup = [dd_cpu(0, ctx.remaining()) for _ in range(5)]

    def sample(timeout: float) -> float:
        startup.append(dd_cpu(0, timeout))  # tracks drift over the run
        copying = dd_cpu(count, timeout) - statistics.median(startup)
        if copying <= 0:
            raise ProbeError(f"dd of {count} blocks took no more CPU than dd of none")
        return count * DD_BLOCK / copying / MB

    params: dict[str, object] = {
        "bs": DD_BLOCK, "count": count, "bytes": count * DD_BLOCK,
        "timing": "CPU time of dd minus the median CPU time of count=0 runs",
    }
    p = ctx.profile
    return Plan(f"dd ({ctx.dd_version})", params, sample, p.samples, p.warmup)


SYSBENCH_BLOCK = "1K"  # sysbench's default block size, as in the seed
SYSBENCH_BLOCK_BYTES = 1024
# Each thread works on a block of its own.  With sysbench's default, one block
# shared by all threads, N threads writing measure cache-line ping-pong
# between vCPUs, which swings 2.8x with where the host happens to place them
# (docs/probes.md); per-thread blocks measure the memory path itself.
SYSBENCH_SCOPE = "local"


def _sysbench(oper: str, all_threads: bool) -> Callable[[Context], Plan]:
    def prepare(ctx: Context) -> Plan:
        threads = ctx.threads if all_threads else 1
        seconds = ctx.profile.sysbench_time_s
        params: dict[str, object] = {"oper": oper, "threads": threads, "time_s": seconds,
                                     "block_size": SYSBENCH_BLOCK, "scope": SYSBENCH_SCOPE,
                                     "access_mode": "seq"}
        if ctx.sysbench:
            argv = [ctx.sysbench, "memory", "--memory-oper=" + oper,
                    "--memory-block-size=" + SYSBENCH_BLOCK, "--memory-total-size=4T",
                    "--memory-scope=" + SYSBENCH_SCOPE,
                    f"--threads={threads}", f"--time={seconds}", "run"]
            tool = "sysbench " + ctx.sysbench_version

            def sample(timeout: float) -> float:
                try:
                    return parsers.parse_sysbench_memory(commands.run(argv, timeout).stdout)
                except ValueError as exc:
                    raise ProbeError(str(exc)) from exc
        else:
            # at least 100 ms even when scaled down: in a shorter run on a busy
            # machine the threads may not be scheduled at all before it ends
            millis = max(100, ctx.scaled(seconds * 1000))
            params["time_s"] = millis / 1000
            args = ["mem", oper, str(SYSBENCH_BLOCK_BYTES), str(threads), str(millis)]
            if ctx.helper:
                argv, kind = [ctx.helper] + args, "c-helper"
            else:
                argv, kind = _python(*args), "python"
            tool = f"builtin-memory {kind} (sysbench missing)"

            def sample(timeout: float) -> float:
                moved, elapsed_ns = commands.numbers(commands.run(argv, timeout).stdout, 2)
                if moved <= 0:
                    raise ProbeError(f"the memory loop moved no data in {millis} ms")
                return moved / MIB / (elapsed_ns / 1e9)

        p = ctx.profile
        return Plan(tool, params, sample, p.sysbench_samples, min(p.warmup, 1))
    return prepare


def _require_free(ctx: Context, need: int) -> None:
    stat = os.statvfs(ctx.workdir)
    free = stat.f_bavail * stat.f_frsize
    if free < need + FREE_MARGIN:
        where = os.path.dirname(ctx.workdir)
        raise ProbeSkipped(f"not enough free space in {where}: need "
                           f"{(need + FREE_MARGIN) // MIB} MiB, {free // MIB} MiB available")


def _disk_params(ctx: Context) -> dict[str, object]:
    return {"file_bytes": ctx.file_bytes, "block_bytes": 1 << 20,
            "filesystem": ctx.filesystem or "unknown"}


def _throughput(argv: list[str], timeout: float) -> float:
    moved, elapsed_ns = commands.numbers(commands.run(argv, timeout).stdout, 2)
    return moved / MB / (elapsed_ns / 1e9)


def _data_file(ctx: Context) -> str:
    """The disk probes' file, written (untimed) when missing or of another size:
    made once per run by whichever disk probe runs first."""
    path = os.path.join(ctx.workdir, DATA_FILE)
    if not os.path.exists(path) or os.path.getsize(path) != ctx.file_bytes:
        _require_free(ctx, ctx.file_bytes)
        commands.run(_python("write", path, str(ctx.file_bytes)), ctx.remaining())
    return path


def disk_write_fsync(ctx: Context) -> Plan:
    """Every sample, warm-up included, writes over the disk probes' file in place."""
    argv = _python("write", _data_file(ctx), str(ctx.file_bytes))
    params = _disk_params(ctx)
    params.update({"data": "random", "fsync": "once, before the clock stops",
                   "write": "over the file in place"})
    p = ctx.profile
    return Plan("python-io", params, lambda timeout: _throughput(argv, timeout),
                p.samples, p.warmup)


def disk_cached_read(ctx: Context) -> Plan:
    """Read back the disk probes' file.

    At least one warm-up read, so that the samples come from the page cache.
    """
    argv = _python("read", _data_file(ctx))
    p = ctx.profile
    return Plan("python-io", _disk_params(ctx), lambda timeout: _throughput(argv, timeout),
                p.samples, max(1, p.warmup))


# Suffix of the metrics that run on N threads (N = --threads, default: all
# online CPUs), so that the id is the same on every machine.
ALL_THREADS = "tN"

WORKLOADS = [
    Workload("cpu.integer", "integer CPU loop", "ms", "lower", cpu_integer),
    Workload("syscall.getpid", "getpid() latency", "ns", "lower", syscall_getpid),
    Workload("process.fork_wait", "fork()+wait latency", "us", "lower", process_fork_wait),
    Workload("memory.dd_zero", "dd /dev/zero bandwidth", "MB/s", "higher", memory_dd_zero),
] + [
    Workload(f"memory.sysbench.{oper}.{suffix}",
             "sysbench {}, {}".format(oper, "1 thread" if suffix == "t1" else "N threads"),
             "MiB/s", "higher", _sysbench(oper, suffix != "t1"))
    for oper in ("read", "write") for suffix in ("t1", ALL_THREADS)
] + [
    Workload("disk.write_fsync", "write+fsync throughput", "MB/s", "higher", disk_write_fsync),
    Workload("disk.cached_read", "cached read throughput", "MB/s", "higher", disk_cached_read),
]

