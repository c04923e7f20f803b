"""Path.resolve() for many paths below one directory, at a fraction of its cost.

A build asks, for every report, whether report.yml and each results file,
links followed, still lie inside the report directory (a link must not make
it read a file outside).  Path.resolve() answers by lstat()ing every
component from / down and stat()ing the result: a dozen system calls a file,
most of a large site's planning.  Below a directory resolved once, a path of
plain names whose components are no links resolves to that directory's real
path joined with the names; :class:`Below` checks exactly that with one
lstat() per component below it (shared ones once), and falls back to
Path.resolve() whenever a component is a link, the name is absolute or has
'..', or lstat() fails in a way resolve() might treat otherwise.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_MISSING = 0  # the mode given for a path that does not exist: no kind of file


def plain_parts(name: str) -> list[str] | None:
    """The components of a relative ``name`` as pathlib splits it, or None
    when it is absolute, has '..', or names the directory itself."""
    if os.sep != "/" or os.altsep or name.startswith("/"):
        return None
    parts = [p for p in name.split("/") if p and p != "."]
    return parts if parts and ".." not in parts else None


class Below:
    """Paths below ``base`` (whose resolved path is ``real``, when known),
    resolved as Path.resolve() does.  Short-lived: what it lstat()ed is
    remembered for the life of the object, like one call of resolve()."""

    def __init__(self, base: Path, real: Path | None = None) -> None:
        self.base = base
        self._text = os.fspath(base)
        self._real = real
        self._modes: dict[str, int] = {}  # lstat() modes of the paths below base seen so far

    @property
    def real(self) -> Path:
        if self._real is None:
            self._real = self.base.resolve()
        return self._real

    def mode(self, parts: list[str]) -> int | None:
        """The lstat() mode of ``base``/``parts`` when no component is a link
        (0 when one is missing); None when one is a link or cannot be examined."""
        path = self._text
        mode = _MISSING
        for part in parts:
            path = os.path.join(path, part)
            known = self._modes.get(path)
            if known is None:
                try:
                    known = os.lstat(path).st_mode
                except (FileNotFoundError, NotADirectoryError):
                    return _MISSING  # resolve() takes the rest as written, and it is no file
                except (OSError, ValueError):
                    return None
                self._modes[path] = known
            if stat.S_ISLNK(known):
                return None
            mode = known
        return mode

    def inside(self, name: str) -> tuple[bool, bool]:
        """Whether ``base``/``name``, links resolved, lies inside ``real``, and
        whether it is then a file (links followed): as ``p.resolve().is_relative_to(real)``
        and ``p.is_file()`` with ``p = base / name``."""
        parts = plain_parts(name)
        mode = self.mode(parts) if parts is not None else None
        if mode is not None:
            return True, stat.S_ISREG(mode)
        path = self.base / name
        if not path.resolve().is_relative_to(self.real):
            return False, False  # not even stat()ed where the link leads
        return True, path.is_file()

    def resolve(self, path: Path) -> Path:
        """``path.resolve()`` for a ``path`` that may lie below ``base``."""
        text, prefix = os.fspath(path), self._text.rstrip("/") + "/"
        parts = plain_parts(text[len(prefix):]) if text.startswith(prefix) else None
        if parts is not None and self.mode(parts) is not None:
            return self.real.joinpath(*parts)
        return path.resolve()
