"""Python side of the probes: fallbacks and file I/O, one sample per process.

Run as ``python3 probe_worker.py MODE ARGS...``; prints one line on stdout in the
same format as the C helper (probes/c/probe_helper.c), so the runner parses
both the same way.  The fallbacks for cpu, getpid and fork time the
interpreter as much as the system; they exist only for machines without a C
compiler, and the results are marked ``python-fallback``.
"""
from __future__ import annotations

import mmap
import os
import sys
import time
from typing import Callable

MASK64 = (1 << 64) - 1
CHUNK = 1 << 20  # file I/O block: 1 MiB


def cpu(n: int) -> str:
    """The C helper's integer loop, bit for bit, in Python."""
    seed = os.getpid()
    x, acc, m = seed, 0, (seed | 1) + 1000003
    t0 = time.perf_counter_ns()
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK64
        x ^= x >> 29
        acc = (acc + x % m) & MASK64
    return f"{time.perf_counter_ns() - t0} {acc}"


def getpid(n: int) -> str:
    call = os.getpid
    t0 = time.perf_counter_ns()
    for _ in range(n):
        call()
    return str(time.perf_counter_ns() - t0)


def fork(n: int) -> str:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    return str(time.perf_counter_ns() - t0)


def _mem_loop(oper: str, block: int, deadline: float) -> int:
    buf = bytearray(block)
    fill = bytes(range(256)) * (block // 256 + 1)
    fill = fill[:block]
    events = 0
    while time.perf_counter() < deadline:
        if oper == "write":
            buf[:] = fill
        else:
            buf.count(1)
        events += 1
    return events * block


def mem(oper: str, block: int, threads: int, millis: int) -> str:
    """sysbench-like memory loop; one forked process per thread (GIL), each
    with a block of its own, as the probe runs sysbench (--memory-scope=local)."""
    t0 = time.perf_counter_ns()
    deadline = time.perf_counter() + millis / 1000
    readers: list[int] = []
    pids: list[int] = []
    for _ in range(threads):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.write(w, str(_mem_loop(oper, block, deadline)).encode())
            os._exit(0)
        os.close(w)
        readers.append(r)
        pids.append(pid)
    total = 0
    for r, pid in zip(readers, pids):
        total += int(os.read(r, 64) or b"0")
        os.close(r)
        os.waitpid(pid, 0)
    return f"{total} {time.perf_counter_ns() - t0}"


def _aligned_buffer() -> memoryview:
    """A page-aligned 1 MiB buffer, as dd uses: copies to and from a
    misaligned one of that size run at a fraction of the speed on some CPUs."""
    return memoryview(mmap.mmap(-1, CHUNK))


def write_fsync(path: str, size: int) -> str:
    """Write `size` bytes of incompressible data over the file at `path`, in
    place, and fsync; time both.  A file that is missing or of another size is
    made anew first (as the probe's prepare step does, untimed).

    In place, because writing a new file measures where the allocator puts it:
    on a virtual disk mounted with `discard`, new files ran at 1,700 MB/s in
    one run and 2,500 in the next, most likely as freed blocks went back to
    the host, which must allocate them again (docs/probes.md)."""
    block = _aligned_buffer()
    block[:] = os.urandom(CHUNK)  # random: a compressing file system cannot cheat
    flags = os.O_WRONLY
    if not os.path.exists(path) or os.path.getsize(path) != size:
        if os.path.exists(path):
            os.unlink(path)
        flags |= os.O_CREAT | os.O_EXCL
    t0 = time.perf_counter_ns()
    fd = os.open(path, flags, 0o600)
    try:
        left = size
        while left > 0:
            left -= os.write(fd, block[: min(left, CHUNK)])
        os.fsync(fd)
    finally:
        os.close(fd)
    return f"{size} {time.perf_counter_ns() - t0}"


def read_file(path: str) -> str:
    view = _aligned_buffer()
    total = 0
    t0 = time.perf_counter_ns()
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            got = os.readv(fd, [view])
            if got == 0:
                break
            total += got
    finally:
        os.close(fd)
    return f"{total} {time.perf_counter_ns() - t0}"


MODES: dict[str, Callable[..., str]] = {
    "cpu": lambda n: cpu(int(n)),
    "getpid": lambda n: getpid(int(n)),
    "fork": lambda n: fork(int(n)),
    "mem": lambda o, b, t, ms: mem(o, int(b), int(t), int(ms)),
    "write": lambda p, n: write_fsync(p, int(n)),
    "read": read_file,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in MODES:
        sys.stderr.write("usage: probe_worker.py {} ARGS...\n".format("|".join(sorted(MODES))))
        return 2
    print(MODES[argv[0]](*argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
