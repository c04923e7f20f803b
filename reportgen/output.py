"""Write stage: build into a staging directory beside the output, then swap.

A failed or killed build never leaves a half-written site: the new tree is
complete before it replaces the old one, with an atomic exchange where the
system offers one (Linux renameat2), and files of removed reports vanish
because the new tree simply does not have them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportgen.errors import InputError, Problem
from reportgen.model import Site

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def check_output_dir(output: Path, site: Site, site_file: Path) -> None:
    """Refuse output dirs whose replacement would destroy the project."""
    output, root = output.resolve(), site.root.resolve()
    reason = ""
    if output == root or output in root.parents:
        reason = "it is the project directory or one of its parents"
    elif any(d.resolve().is_relative_to(output) or output.is_relative_to(d.resolve())
             for d in site.report_dirs):
        reason = "it holds report directories, or lies inside one"
    elif (output / site_file.name).exists() or (output / "reports").is_dir():
        reason = "it holds a site.yml or reports/: it looks like a project, not build output"
    elif output == Path(output.anchor) or output == Path.home():
        reason = "it is a system or home directory"
    if reason:
        raise InputError([Problem(str(site_file), 1, 1,
                                  f"refusing output directory '{output}': {reason}")])


@contextmanager
def staging(output: Path) -> Iterator[Path]:
    """A fresh directory beside ``output``, removed unless it was published."""
    output.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    try:
        yield stage
    finally:
        if stage.exists():
            shutil.rmtree(stage)


def write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def link_tree(src: Path, dst: Path) -> None:
    """Hard-link every file of ``src`` into ``dst``: no copy, no second version."""
    for here, _dirs, files in os.walk(src):
        target = dst / Path(here).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            if not (target / name).exists():
                os.link(Path(here) / name, target / name)


def carry_over(path: Path, output: Path, stage: Path) -> None:
    """Link ``path`` of the current output (if there) into the new one."""
    if path.is_dir() and path.is_relative_to(output):
        link_tree(path, stage / path.relative_to(output))


def publish(stage: Path, output: Path) -> None:
    """Make ``stage`` the new ``output``."""
    if output.exists() and _exchange(stage, output):
        shutil.rmtree(stage)  # stage now holds the previous output
        return
    old = output.with_name(f".{output.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if output.exists():
        output.rename(old)
    stage.rename(output)
    if old.exists():
        shutil.rmtree(old)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)
