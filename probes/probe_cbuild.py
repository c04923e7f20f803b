"""Build the C helper (c/probe_helper.c) with the machine's compiler, once.

The binary is cached under $XDG_CACHE_HOME/reportgen-probes/<hash>/ (default
~/.cache/...; REPORTGEN_PROBES_CACHE overrides the base), keyed by a hash of
the source, the compiler's identity and the flags: a new compiler or a new
source builds a new binary, and the old one is never reused by mistake.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile

from probe_commands import version_line

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "c", "probe_helper.c")
CFLAGS = ["-O2", "-pthread"]


def find_compiler() -> str | None:
    for name in [os.environ.get("CC", ""), "cc", "clang", "gcc"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def cache_base() -> str:
    explicit = os.environ.get("REPORTGEN_PROBES_CACHE")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "reportgen-probes")


def source_hash(compiler_id: str) -> str:
    digest = hashlib.sha256()
    with open(SOURCE, "rb") as src:
        digest.update(src.read())
    digest.update(("\0" + compiler_id + "\0" + " ".join(CFLAGS)).encode())
    return digest.hexdigest()[:16]


def _compile(compiler: str, target_dir: str) -> str:
    """Compile into target_dir atomically (temp name, then rename)."""
    os.makedirs(target_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".probe_helper-", dir=target_dir)
    os.close(fd)
    scratch = tempfile.mkdtemp(prefix=".cc-tmp-", dir=target_dir)
    try:
        returncode, output = _run_compiler([compiler] + CFLAGS + ["-o", tmp, SOURCE], scratch)
        if returncode != 0:
            raise OSError("compiler failed: " + output.strip()[-300:])
        final = os.path.join(target_dir, "probe_helper")
        os.replace(tmp, final)
        return final
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        shutil.rmtree(scratch, ignore_errors=True)


def _run_compiler(command: list[str], scratch: str) -> tuple[int, str]:
    """Run the compiler with its temporary files in ``scratch`` and in a
    process group of its own: on a signal or a timeout the whole group (cc1,
    as, ld) is killed and ``scratch`` removed, so nothing is left in TMPDIR."""
    env = dict(os.environ, TMPDIR=scratch)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, env=env,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=120)
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        raise
    return proc.returncode, output


def build(scratch_dir: str) -> tuple[str | None, list[str]]:
    """Path of a ready helper (or None) and notes on what happened.

    Tries the cache first; if the cache is not writable, builds into
    scratch_dir (the run's work dir, removed at exit).
    """
    compiler = find_compiler()
    if compiler is None:
        return None, ["no C compiler found: using the Python fallback"]
    compiler_id = version_line([compiler, "--version"]) or compiler
    key = source_hash(compiler_id)
    cached = os.path.join(cache_base(), key, "probe_helper")
    if os.access(cached, os.X_OK):
        return cached, []
    notes = []
    for target in (os.path.dirname(cached), os.path.join(scratch_dir, "c-helper")):
        try:
            return _compile(compiler, target), notes
        except (OSError, subprocess.SubprocessError) as exc:
            notes.append(f"cannot build the C helper in {target}: {exc}")
    return None, notes + ["using the Python fallback"]
