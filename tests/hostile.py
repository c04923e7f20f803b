"""The hostile-input corpus: one case per folder in ``tests/fixtures/hostile/``.

A case is a ``case.yml`` (what an attacker or a careless user does) and an
``expected.txt`` (exactly what ``reportgen build`` prints on stderr, with the
case's places written as ``@PROJECT@``, ``@SCRATCH@`` and ``@OUTSIDE@``, and
build times as ``in N s``).
For every case the harness

1. lays out ``tests/fixtures/errors/_base`` (with the case's ``site``) and
   builds it once: the previous output (kept and copied back for the next case
   with the same site and arguments, so the corpus stays quick);
2. applies the case and runs ``reportgen build ARGS`` once (or ``builds``
   times) in a process of its own under ``strace -f -e trace=openat,connect``;
3. returns the exit status, stderr, the output tree before and after the
   hostile build, the paths opened outside the project and the system's
   read-only places (by the file each descriptor really names, so a link out
   of the project counts where it leads), and every connect() call.

``tests/test_hostile.py`` asserts these per case.  ``.venv/bin/python -m
tests.hostile [NAME]`` rewrites the ``expected.txt`` of every case (or of those
whose name contains NAME) and prints each status: review the diff.

case.yml keys (all optional but ``about`` and ``status``)::

    about: what the case tries, in one line
    status: 2                      # expected exit status of the hostile build
    site: "..."                    # site.yml for both builds
    args: [-o, "@SCRATCH@/out"]    # arguments of both builds
    more_args: [-o, "@SCRATCH@/x"] # arguments of the hostile build only
    output: "@SCRATCH@/out"        # where the output is (default @PROJECT@/output)
    edit: {file: [[old, new], ...]}  # replacements; YAML escapes ("\\e", "\\ud800")
    write: {file: text}            # whole files ("\\udce9" writes the byte 0xe9)
    samples: {file: [metric_index, count]}
    link: {path: target}           # symlinks, made after the first build
    mkdir: [path, ...]
    move: {old: new}               # rename (after the first build)
    fault: {tmpfs: 1m, fill: true, read_only: true, signal: SIGTERM, delay: 0.0,
            locked: true}          # another build holds the output until this one waits
    builds: 2                      # run the hostile build this many times
    contains: {output/relative/file: [text, ...]}   # for builds that succeed
    lacks: {output/relative/file: [text, ...]}
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.faults import fill, tmpfs

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "fixtures" / "hostile"
BASE = ROOT / "tests" / "fixtures" / "errors" / "_base"
TOKENS = ("@PROJECT@", "@SCRATCH@", "@OUTSIDE@")
# Read-only places any Python build opens: the interpreter and its packages,
# shared libraries, fonts and their caches, the kernel's /proc, /sys and /dev.
SYSTEM = ("/usr/", "/lib/", "/lib64/", "/etc/ld.so.cache", "/etc/fonts/", "/etc/localtime", "/etc/locale.alias",
          "/etc/ssl/openssl.cnf", "/etc/mime.types",
          "/proc/", "/sys/", "/dev/", "/var/cache/fontconfig/")
OPENAT = re.compile(r'openat\([^,]*, "([^"]*)".*= (?:\d+<([^>]*)>|-1)')


def allowed_places() -> tuple[str, ...]:
    """Where a build may read besides the project: see ``SYSTEM``, plus
    reportgen's own code and templates and matplotlib's caches."""
    import matplotlib

    places = {sys.prefix, sys.base_prefix, str(ROOT / "reportgen"), str(ROOT / "templates"),
              matplotlib.get_cachedir(), matplotlib.get_configdir(),
              str(Path.home() / ".cache" / "fontconfig"), str(Path.home() / ".fontconfig")}
    places |= {p for p in sys.path if p and Path(p).is_dir() and p != str(ROOT)}
    return (*SYSTEM, *(p.rstrip("/") + "/" for p in places))


@dataclass(frozen=True)
class Case:
    name: str
    spec: dict[str, Any]

    @property
    def expected(self) -> Path:
        return CASES / self.name / "expected.txt"


def cases() -> list[Case]:
    return [Case(p.name, yaml.safe_load((p / "case.yml").read_text(encoding="utf-8")))
            for p in sorted(CASES.iterdir()) if (p / "case.yml").is_file()]


@dataclass(frozen=True)
class Places:
    root: Path

    @property
    def all(self) -> tuple[Path, Path, Path]:
        return self.root / "project", self.root / "scratch", self.root / "outside"

    def fill(self, text: str) -> str:
        for token, path in zip(TOKENS, self.all):
            text = text.replace(token, str(path))
        return text

    def unfill(self, text: str) -> str:
        """``text`` with the places as tokens and the build times as ``N``."""
        for token, path in zip(TOKENS, self.all):
            text = text.replace(str(path), token)
        return re.sub(r" in \d+\.\d s$", " in N s", text, flags=re.MULTILINE)


@dataclass(frozen=True)
class Outcome:
    status: int
    stderr: str
    before: dict[str, object]
    after: dict[str, object]
    opened_outside: list[str]
    connects: list[str]
    output: Path
    staging_left: list[str]


def tree(root: Path) -> dict[str, object]:
    """Every entry under ``root``: a file's bytes, a link's target, or a dir."""
    if not root.is_dir():
        return {".": root.read_bytes()} if root.is_file() else {}
    entries: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        entries[key] = (os.readlink(path) if path.is_symlink() else
                        path.read_bytes() if path.is_file() else "<dir>")
    return entries


def environment(places: Places) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN")}
    env.update(TMPDIR=str(places.root / "scratch" / "tmp"), PYTHONDONTWRITEBYTECODE="1")
    return env


def lay_out(case: Case, places: Places) -> None:
    project, scratch, outside = places.all
    shutil.copytree(BASE, project)
    (scratch / "tmp").mkdir(parents=True)
    (outside / "reports").mkdir(parents=True)
    (outside / "passwd").write_text("root:x:0:0:secret:/root:/bin/sh\n")
    shutil.copytree(BASE / "reports" / "r", outside / "reports" / "r")
    if "site" in case.spec:
        (project / "site.yml").write_text(places.fill(case.spec["site"]))


def apply(case: Case, places: Places) -> None:
    spec, project = case.spec, places.root / "project"

    def at(name: str) -> Path:
        return project / places.fill(name)

    for name in spec.get("mkdir", []):
        at(name).mkdir(parents=True, exist_ok=True)
    for name, pairs in spec.get("edit", {}).items():
        text = at(name).read_text(encoding="utf-8")
        for old, new in pairs:
            assert old in text, f"{case.name}: {old!r} is not in {name}"
            text = text.replace(old, places.fill(new))
        at(name).write_text(text, encoding="utf-8", errors="surrogateescape")
    for name, text in spec.get("write", {}).items():
        at(name).parent.mkdir(parents=True, exist_ok=True)
        at(name).write_text(places.fill(text), encoding="utf-8", errors="surrogateescape")
    for name, (index, count) in spec.get("samples", {}).items():
        data = json.loads(at(name).read_text())
        data["metrics"][index]["samples"] = [1.0 + (i % 7) / 10 for i in range(count)]
        at(name).write_text(json.dumps(data))
    for old, new in spec.get("move", {}).items():
        at(old).rename(at(new))
    for name, target in spec.get("link", {}).items():
        if at(name).is_dir() and not at(name).is_symlink():
            shutil.rmtree(at(name))
        elif at(name).exists() or at(name).is_symlink():
            at(name).unlink()
        at(name).parent.mkdir(parents=True, exist_ok=True)
        at(name).symlink_to(places.fill(target))


def opened(log: Path, allowed: tuple[str, ...], listed: tuple[str, ...] = ()
           ) -> tuple[list[str], list[str]]:
    """Files opened outside ``allowed``, as their descriptors name them; connects.
    A directory in ``listed`` may itself be opened (listed), nothing inside it."""
    outside, connects = set(), []
    for line in log.read_text(errors="replace").splitlines():
        if " connect(" in line:
            connects.append(line)
        found = OPENAT.search(line)
        if found:
            asked, got = (os.fsdecode(bytes.fromhex(g.replace("\\x", ""))) if g else ""
                          for g in found.groups())
            path = got or asked
            if path.startswith("/") and not (path + "/").startswith(allowed) \
                    and path.rstrip("/") not in listed:
                outside.add(path)
    return sorted(outside), connects


def hostile_build(case: Case, places: Places, output: Path, log: Path | None) -> tuple[int, str]:
    fault = case.spec.get("fault", {})
    argv = [sys.executable, "-m", "reportgen", "build",
            *(places.fill(a) for a in case.spec.get("args", []) + case.spec.get("more_args", []))]
    if log is not None:
        argv = ["strace", "-f", "-qq", "-xx", "-y", "-s", "4096",
                "-e", "trace=openat,connect", "-o", str(log), *argv]
    with contextlib.ExitStack() as held:
        if fault.get("locked"):  # another build holds the output until this one waits
            lock = held.enter_context((output.parent / f".{output.name}.lock").open("a"))
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        process = subprocess.Popen(argv, cwd=places.root / "project", env=environment(places),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if fault.get("locked"):
            waiter = f":{os.fstat(lock.fileno()).st_ino} "
            began = time.monotonic()
            while process.poll() is None and time.monotonic() - began < 60 and not any(
                    "->" in line and waiter in line
                    for line in Path("/proc/locks").read_text().splitlines()):
                time.sleep(0.05)
    if "signal" in fault:
        began = time.monotonic()
        while not list(output.parent.glob(f".{output.name}.new-*")):
            if process.poll() is not None or time.monotonic() - began > 60:
                break
            time.sleep(0.01)
        # The staging directory exists only while the build renders: signal at
        # once, since a small report can render in less than any fixed delay.
        time.sleep(fault.get("delay", 0.0))
        if process.poll() is None:
            # under strace the build is strace's child: signal the build itself
            builds = [int(p) for p in subprocess.run(
                ["pgrep", "-P", str(process.pid)], capture_output=True, text=True,
                check=False).stdout.split()] if log is not None else [process.pid]
            for pid in builds or [process.pid]:
                os.kill(pid, getattr(signal, fault["signal"]))
    _out, err = process.communicate(timeout=300)
    return process.returncode, err.decode("utf-8", "replace")


class Corpus:
    """Runs cases in one fixed place under ``root`` (so paths the builds write
    stay the same), with a snapshot of each previous output to copy back."""

    def __init__(self, root: Path) -> None:
        self.places = Places(root / "case")
        self.snapshots: dict[str, Path] = {}
        self.root = root

    def previous_output(self, case: Case) -> None:
        key = json.dumps([case.spec.get(k) for k in ("site", "args", "output")])
        snapshot = self.snapshots.get(key)
        if snapshot is not None:
            shutil.copytree(snapshot, self.places.root, symlinks=True)
            return
        lay_out(case, self.places)
        self.first_build(case)
        if "fault" not in case.spec:
            snapshot = self.root / f"snapshot-{len(self.snapshots)}"
            shutil.copytree(self.places.root, snapshot, symlinks=True)
            self.snapshots[key] = snapshot

    def first_build(self, case: Case) -> None:
        argv = [sys.executable, "-m", "reportgen", "build",
                *(self.places.fill(a) for a in case.spec.get("args", []))]
        done = subprocess.run(argv, cwd=self.places.root / "project",
                              env=environment(self.places), capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, f"{case.name}: the first build failed: {done.stderr}"

    def run(self, case: Case, *, traced: bool = True) -> Outcome:
        places, spec = self.places, case.spec
        fault = spec.get("fault", {})
        if places.root.exists():
            shutil.rmtree(places.root)
        output = Path(places.fill(spec.get("output", "@PROJECT@/output")))
        log = places.root / "strace.log" if traced else None
        mount = (tmpfs(places.root / "scratch" / "fs", size=fault["tmpfs"])
                 if "tmpfs" in fault else contextlib.nullcontext())
        with mount:
            self.previous_output(case)
            apply(case, places)
            before = tree(output)
            if fault.get("fill"):
                fill(places.root / "scratch" / "fs")
            if fault.get("read_only"):
                subprocess.run(["mount", "-o", "remount,ro", str(places.root / "scratch" / "fs")],
                               check=True)
            stderr = ""
            for _ in range(spec.get("builds", 1)):  # every build's stderr, in turn
                status, said = hostile_build(case, places, output, log)
                stderr += said
            after = tree(output)
            staging = sorted(p.name for p in output.parent.glob(f".{output.name}.new-*"))
        # An editable install puts the checkout on sys.path: the import system
        # lists that directory (never a file in it outside reportgen/ and templates/).
        outside, connects = opened(log, allowed_places(), (str(ROOT),)) if log else ([], [])
        # the build's own places: the project, the output, its lock and staging
        # dirs beside it, TMPDIR
        mine = (str(places.root / "project"), str(output), str(places.root / "scratch" / "tmp"),
                str(output.parent / f".{output.name}."))
        outside = [p for p in outside if p != str(output.parent)
                   and not any(p == m or p.startswith(m if m.endswith(".") else m + "/")
                               for m in mine)]
        return Outcome(status, places.unfill(stderr), before, after, outside, connects,
                       output, staging)


def regenerate(only: str = "") -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp))
        for case in cases():
            if only and only not in case.name:
                continue
            outcome = corpus.run(case, traced=False)
            case.expected.write_text(outcome.stderr, encoding="utf-8")
            said = case.spec["status"]
            print(f"{case.name}: exit {outcome.status}"
                  + ("" if outcome.status == said else f" (case.yml says {said})"), flush=True)


if __name__ == "__main__":
    regenerate(sys.argv[1] if len(sys.argv) > 1 else "")
