"""Write a file so that readers see the old file or the whole new one, never a part.

The data go to a temporary file beside the target (``.<name>.<random>.tmp``,
on the same file system), which is then renamed over it; on any exception,
a stopping signal included, the temporary file is removed and the target is
left as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_bytes(target: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``target`` with ``data``, whole or not at all."""
    with replacing(target, data, mode=mode):
        pass


@contextmanager
def replacing(target: Path, data: bytes, *, mode: int = 0o644, sync: bool = False,
              overwrite: bool = True) -> Iterator[Path]:
    """``data`` in a temporary file beside ``target`` that takes its place when
    the block ends without an exception; yields the temporary file's path (to
    check what was written before it counts).

    ``mode`` is the file's permissions, whatever the umask.  ``sync`` flushes
    the data to disk before the rename (the rename itself is durable once the
    caller has run :func:`sync_dir`).  With ``overwrite=False`` an existing
    ``target`` is never replaced: FileExistsError instead.
    """
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        os.chmod(temporary, mode)
        yield temporary
        if overwrite:
            os.replace(temporary, target)
        else:
            _link_new(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _link_new(temporary: Path, target: Path) -> None:
    """Put ``temporary`` at ``target`` unless something is there already; a
    hard link, as a rename would replace a file made since we looked."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if target.exists():
            raise FileExistsError(17, "file exists", str(target)) from None
        os.rename(temporary, target)


def sync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries (new names, renames) to disk, where the system can."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
