"""Pure parsers for the text the probes read: sysctl, /proc, sysbench, dd.

No I/O here, so every function is tested against fixture files taken from
FreeBSD and Linux machines (tests/fixtures/probes/).
"""
from __future__ import annotations

import re

SYSCTL_LINE = re.compile(r"^([a-z_][a-z0-9_.%-]*)(?:: ?|=)(.*)$", re.IGNORECASE)


def parse_sysctl(text: str) -> dict[str, str]:
    """`sysctl name...` output -> {name: value}.

    A value may run over several lines (kern.version does); lines that do
    not start a new ``name: value`` pair continue the previous value.
    """
    values: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        match = SYSCTL_LINE.match(line)
        if match and "." in match.group(1):
            last = match.group(1)
            values[last] = match.group(2)
        elif last is not None and line.strip():
            values[last] += "\n" + line.rstrip()
    return {name: value.strip() for name, value in values.items()}


def parse_key_values(text: str, sep: str = ":") -> list[tuple[str, str]]:
    """Lines of ``key <sep> value`` (cpuinfo, meminfo, lscpu) in order."""
    pairs = []
    for line in text.splitlines():
        key, found, value = line.partition(sep)
        if found:
            pairs.append((key.strip(), value.strip()))
    return pairs


def parse_cpuinfo(text: str) -> dict[str, object]:
    """/proc/cpuinfo -> model, cores, threads and x86 flags (Linux, any arch)."""
    model = ""
    threads = 0
    cores = set()
    physical = core = ""
    flags: list[str] = []
    for key, value in parse_key_values(text):
        if key == "processor":
            threads += 1
        elif key in ("model name", "Model Name", "cpu model", "uarch") and not model:
            model = value
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
            cores.add((physical, core))
        elif key == "flags" and not flags:  # x86 only; it carries "hypervisor"
            flags = value.split()
    info: dict[str, object] = {"flags": flags}
    if model:
        info["cpu_model"] = model
    if threads:
        info["cpu_threads"] = threads
        info["cpu_cores"] = len(cores) if cores else threads
    return info


def parse_meminfo(text: str) -> int | None:
    """/proc/meminfo -> MemTotal in bytes."""
    for key, value in parse_key_values(text):
        if key == "MemTotal":
            number, _, unit = value.partition(" ")
            return int(number) * (1024 if unit.strip().lower() == "kb" else 1)
    return None


def parse_os_release(text: str) -> dict[str, str]:
    """/etc/os-release (shell-style KEY="value" lines) -> dict."""
    values = {}
    for key, value in parse_key_values(text, "="):
        values[key] = value.strip("\"'")
    return values


def parse_mounts(text: str) -> list[tuple[str, str]]:
    """/proc/self/mounts or FreeBSD `mount -p` -> [(mount point, fs type)].

    Both put the device, the mount point and the type in the first three
    columns; Linux escapes a space in a path as \\040.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append((fields[1].replace("\\040", " "), fields[2]))
    return mounts


def filesystem_of(path: str, mounts: list[tuple[str, str]]) -> str | None:
    """Type of the file system holding `path` (longest mount point prefix)."""
    best: tuple[int, str | None] = (-1, None)
    for point, fstype in mounts:
        prefix = point.rstrip("/") + "/"
        if (path + "/").startswith(prefix) and len(prefix) > best[0]:
            best = (len(prefix), fstype)
    return best[1]


SYSBENCH_RATE = re.compile(r"transferred \(([0-9.]+) (MiB|MB)/sec\)")
SYSBENCH_VERSION = re.compile(r"sysbench ([0-9][0-9A-Za-z.\-]*)")


def parse_sysbench_memory(text: str) -> float:
    """sysbench memory output -> throughput in MiB/s.

    sysbench 1.x prints ``... MiB transferred (N MiB/sec)``; 0.4/0.5 print
    ``MB`` for the same binary megabyte.
    """
    match = SYSBENCH_RATE.search(text)
    if not match:
        raise ValueError("no 'transferred (... MiB/sec)' line in sysbench output")
    return float(match.group(1))


def parse_sysbench_version(text: str) -> str | None:
    match = SYSBENCH_VERSION.search(text)
    return match.group(1) if match else None


DD_GNU = re.compile(r"^(\d+) bytes .*copied, ([0-9.e+-]+) s", re.MULTILINE)
DD_BSD = re.compile(r"^(\d+) bytes transferred in ([0-9.e+-]+) secs", re.MULTILINE)


def parse_dd_output(text: str) -> tuple[int, float]:
    """dd's closing statistics line (GNU or BSD) -> (bytes, seconds)."""
    match = DD_GNU.search(text) or DD_BSD.search(text)
    if not match:
        raise ValueError("no statistics line in dd output")
    return int(match.group(1)), float(match.group(2))


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
