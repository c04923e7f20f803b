"""Compiled templates kept between builds, so a build that renders one report
does not compile report.html and the templates it imports again (about
0.05 s, docs/site.md).

The cache is a directory that the build names (beside the output, never in
it: see site/reports.py).  Its files are Python code that the next build
runs, so it is used only while it and its parent are real directories owned
by this user that nobody else may write in; it is made 0700.  Jinja2 checks
each entry against the template's source (SHA-1) and recompiles a template
whose text changed; the key adds Jinja2's version and the environment's
settings, which the compiled code also depends on.  Anything that goes wrong
(no permission, a full disk, a damaged file) is the same as no cache: the
template is compiled as without one.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # jinja2 itself only where a template is looked up (attach)
    import jinja2

# What the generated code depends on besides the template's text.
_SETTINGS = ("block_start_string", "block_end_string", "variable_start_string",
             "variable_end_string", "comment_start_string", "comment_end_string",
             "line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks",
             "newline_sequence", "keep_trailing_newline", "optimized", "autoescape",
             "is_async")


@cache
def _cache_type() -> Callable[[Path, str], jinja2.BytecodeCache]:
    import jinja2.bccache

    class Cache(jinja2.FileSystemBytecodeCache):
        def __init__(self, directory: Path, fingerprint: str) -> None:
            super().__init__(str(directory), "%s.jinja")
            self.fingerprint = fingerprint

        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            key = super().get_cache_key(name, filename)
            return hashlib.sha256(f"{self.fingerprint}|{key}".encode()).hexdigest()

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:  # noqa: BLE001 - an unreadable or damaged entry: compile instead
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:  # read-only, full, removed meanwhile: the next build compiles
                pass

    return Cache


def fingerprint(env: jinja2.Environment) -> str:
    import jinja2

    settings = [jinja2.__version__, *(repr(getattr(env, name)) for name in _SETTINGS),
                *sorted(env.extensions)]
    return hashlib.sha256("\n".join(settings).encode()).hexdigest()[:16]


def open_cache(directory: Path, env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """The cache in ``directory`` (made, with its parent, if missing), or None
    when it cannot be made or might be written by someone else."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - no owner to check (Windows)
        return None
    for level in (directory.parent, directory):
        try:
            level.mkdir(mode=0o700, exist_ok=True)
            info = level.lstat()
        except OSError:
            return None
        if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid()
                or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
            return None
    return _cache_type()(directory, fingerprint(env))


# This process's cache: the directory the build named, and what came of it.
_wanted: Path | None = None
_opened: tuple[Path | None, jinja2.BytecodeCache | None] = (None, None)


def use(directory: Path | None) -> None:
    """Keep this process's compiled templates in ``directory`` from now on
    (None: none kept).  Only a path is noted here; the directory is made when
    a template is next looked up (attach)."""
    global _wanted
    _wanted = directory


def attach(env: jinja2.Environment) -> None:
    """Give ``env`` the cache that ``use`` named, opening it once."""
    global _opened
    if _opened[0] != _wanted:
        _opened = (_wanted, open_cache(_wanted, env) if _wanted is not None else None)
    env.bytecode_cache = _opened[1]
