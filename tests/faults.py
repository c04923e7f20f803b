"""Injected faults for tests: a small or read-only file system of our own.

Mounting needs root (CI runs as root in its container); elsewhere the tests
that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(path: Path, *, size: str = "1m", read_only: bool = False) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` at ``path`` (read-only if asked)."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs",
                                            str(path)], capture_output=True,
                                           check=False).returncode != 0:
        pytest.skip("needs root and mount(8) to make a small or read-only file system")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Fill the file system under ``path`` to the last byte."""
    try:
        with (path / "filler").open("wb", buffering=0) as out:
            while True:
                out.write(b"\0" * 4096)
    except OSError:
        pass
