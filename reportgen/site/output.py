"""Write stage: build into a staging directory beside the output, then swap.

A failed or killed build never leaves a half-written site: the new tree is
complete before it replaces the old one, with an atomic exchange where the
system offers one (Linux renameat2), and files of removed reports vanish
because the new tree simply does not have them.  The replaced output is kept
beside the new one and becomes the next build's staging directory, so a build
links in again only the reports that changed since.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from reportgen.core.errors import InputError, Problem, WriteRefused
from reportgen.core.lifeline import libc
from reportgen.core.model import Site
from reportgen.core.paths import Below
from reportgen.site.cache import MANIFEST

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def beside(output: Path, what: str) -> Path:
    """``.<output>.<what>`` beside ``output``: where a build keeps what must
    not be published (its lock, staging directories, the output before last,
    its caches)."""
    return output.parent / f".{output.name}.{what}"


def check_output_dir(output: Path, site: Site, site_file: Path) -> None:
    """Refuse output dirs whose replacement would destroy the project."""
    output, root = output.resolve(), site.root.resolve()
    below = Below(site.root, root)  # the report dirs lie below it: an lstat or two each
    reason = ""
    if output == root or output in root.parents:
        reason = "it is the project directory or one of its parents"
    elif any(d.is_relative_to(output) or output.is_relative_to(d)
             for d in map(below.resolve, site.report_dirs)):
        reason = "it holds report directories, or lies inside one"
    elif (output / site_file.name).exists() or (output / "reports").is_dir():
        reason = "it holds a site.yml or reports/: it looks like a project, not build output"
    elif output == Path(output.anchor) or output == Path.home():
        reason = "it is a system or home directory"
    else:
        reason = foreign(output, MANIFEST, "reportgen output (it has no "
                         f"{MANIFEST})")
    if reason:
        raise InputError([Problem(str(site_file), 1, 1,
                                  f"refusing output directory '{output}': {reason}")])
    reason = foreign(site.archive, "*/index.json", "reportgen archive (no <slug>/index.json)")
    if reason and not site.archive.is_relative_to(output):
        raise InputError([Problem(str(site_file), 1, 1,
                                  f"refusing archive directory '{site.archive}': {reason}")])


def foreign(path: Path, marker: str, what: str) -> str:
    """Why ``path`` is not ours to replace or write into, or "" when it is.

    Only a missing path, an empty directory or one holding ``marker`` (a glob)
    is ours: a user's file or folder is never moved, emptied or deleted."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        return "it exists and is not a directory"
    if path.is_dir() and any(path.iterdir()) and not any(path.glob(marker)):
        return f"it is not empty and is not a {what}"
    return ""


@contextmanager
def locked(output: Path, log: Callable[[str], None]) -> Iterator[None]:
    """Hold ``.<output>.lock`` beside ``output``: one build of an output at a time.

    A second build waits for the first (and says so); the lock file stays, as
    removing it would let a third build lock a different file."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":  # pragma: no cover - no flock
        yield
        return
    import fcntl

    with beside(output, "lock").open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting: another build of {output} is running")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def remove_stale(output: Path) -> None:
    """Remove staging dirs of earlier builds that were killed (under the lock,
    no other build of ``output`` is running, so none of them is in use)."""
    for stale in output.parent.glob(beside(output, "new-*").name):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)


def check_parent(output: Path) -> None:
    """Refuse, before the lock is taken, an output whose directory the build
    cannot write in: the lock, the staging directory and the swap live there."""
    _writable(_existing(output.parent), "the build writes its lock and staging directory in "
              "the output's parent; choose another output directory with -o")


def check_replaceable(output: Path) -> None:
    """Refuse, before anything is written, an output the swap could not
    replace: the previous tree is set aside after it and later builds delete
    from it, which needs write permission on each of its directories."""
    if output.is_dir() and not output.is_symlink():
        for folder in _folders(os.fspath(output)):
            if not _removable(folder):  # then say why, as _writable words it
                _writable(Path(folder), "the previous output is set aside once the new "
                          "one replaces it and later builds delete from it; make it "
                          f"writable (chmod -R u+w '{output}') or choose another output "
                          "directory with -o")


def _folders(top: str) -> Iterator[str]:
    """The directories os.walk(top) yields, in its order, without its lists
    of files: a large output has thousands of them and hundreds of folders."""
    try:
        with os.scandir(top) as entries:
            below = [e.path for e in entries if _walked(e)]
    except OSError:
        return  # os.walk skips a folder it cannot list
    yield top
    for folder in below:
        yield from _folders(folder)


def _walked(entry: os.DirEntry[str]) -> bool:
    """Whether os.walk goes into ``entry``: a directory, links followed, that
    is not itself a link (an error answers no to the first, and yes to the second)."""
    try:
        if not entry.is_dir():
            return False
    except OSError:
        return False
    try:
        return not entry.is_symlink()
    except OSError:
        return True


def _removable(folder: str) -> bool:
    """True when _writable(folder) certainly passes: the same checks, but for
    "not a directory", which a folder found as one only fails in a race."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return (not stats.f_flag & os.ST_RDONLY and os.access(folder, os.W_OK | os.X_OK)
            and (stats.f_bfree if os.geteuid() == 0 else stats.f_bavail) != 0)


def check_archive(archive: Path, slugs: Iterable[str]) -> None:
    """Refuse, before anything is written, a PDF archive the build could not add to."""
    why = ("the PDF archive gets the new snapshots; make it writable, set another archive: "
           "in site.yml, or leave pdf out of --formats")
    _writable(_existing(archive), why)
    for slug in slugs:
        if (archive / slug).is_dir():
            _writable(archive / slug, why)


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing ancestor (where mkdir would write)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable(folder: Path, why: str) -> None:
    """Raise WriteRefused naming ``folder`` unless the build can create and
    delete entries in it, on a file system with room; ``why`` says why the
    build writes there and what to do."""
    reason = ""
    try:
        stats = os.statvfs(folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
    else:
        if stats.f_flag & os.ST_RDONLY:
            reason = "read-only file system"
        elif not folder.is_dir():
            reason = "not a directory"
        elif not os.access(folder, os.W_OK | os.X_OK):
            reason = "permission denied"
        elif (stats.f_bfree if os.geteuid() == 0 else stats.f_bavail) == 0:
            reason = "no space left on device"  # root may use the reserved blocks
    if reason:
        raise WriteRefused(f"reportgen: {folder}: cannot write here ({reason}): {why}")


@contextmanager
def staging(output: Path, carry: Iterable[str] = ()) -> Iterator[Path]:
    """A directory beside ``output`` holding the reports ``carry`` names as
    the output has them; removed unless it was published.

    It is the output before last (:func:`retire` kept it) when there is one,
    cleared of everything but the carried reports whose files are still the
    output's: only what changed since is removed and linked again, so an
    edit does not cost a walk over every report of a large site.  Otherwise
    a new directory, made with the umask's permissions as any new directory
    (mkdtemp's 0700 would become the published site's and lock a web server
    out)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    stage = _reused(output) or _fresh(output)
    try:
        wanted = set(carry)
        try:
            wanted -= _clear(stage, output, wanted)
        except OSError:  # anything odd in the old tree: start from nothing
            shutil.rmtree(stage, ignore_errors=True)
            stage = _fresh(output)
        for slug in sorted(wanted):
            link_tree(output / slug, stage / slug)
        yield stage
    finally:
        # Never an error of its own: after a swap this is the previous output,
        # and whatever stays is removed by the next build (remove_stale).
        shutil.rmtree(stage, ignore_errors=True)


def _previous(output: Path) -> Path:
    """Where :func:`retire` keeps the output before last."""
    return beside(output, "prev")


def _new(output: Path) -> Path:
    """A staging directory's name (remove_stale finds those killed builds left)."""
    return beside(output, f"new-{secrets.token_hex(4)}")


def _fresh(output: Path) -> Path:
    while True:
        stage = _new(output)
        try:
            stage.mkdir()
            return stage
        except FileExistsError:
            continue


def _reused(output: Path) -> Path | None:
    """The output before last, renamed as a staging directory (so a killed
    build's copy is removed like any other), or None."""
    previous = _previous(output)
    if previous.is_symlink() or not (previous / MANIFEST).is_file():
        return None  # not an output of ours: never touched
    stage = _new(output)
    try:
        previous.rename(stage)
    except OSError:
        return None
    return stage


def _clear(stage: Path, output: Path, carry: set[str]) -> set[str]:
    """Remove every entry of ``stage`` but the reports in ``carry`` whose
    files are the very files (same inodes) of the output's; returns those."""
    kept: set[str] = set()
    with os.scandir(stage) as entries:
        for entry in list(entries):
            if (entry.name in carry and entry.is_dir(follow_symlinks=False)
                    and _inodes(entry.path) == _inodes(os.path.join(output, entry.name))):
                kept.add(entry.name)
            elif entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    return kept


def _inodes(folder: str) -> dict[str, int] | None:
    """Each entry under ``folder`` (by relative path) and its inode, directories
    as 0; None when ``folder`` is not a directory.  From the directory listings
    alone: no file is opened or stat'ed."""
    found: dict[str, int] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    inner = _inodes(entry.path)
                    if inner is None:
                        return None
                    found[entry.name + "/"] = 0
                    found.update((f"{entry.name}/{name}", inode) for name, inode in inner.items())
                else:
                    found[entry.name] = entry.inode()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return found


def write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def link_tree(src: Path | str, dst: Path | str) -> None:
    """Hard-link every file of ``src`` into ``dst``: no copy, no second version.

    A file ``dst`` already has is kept.  Plain strings, not Paths, and one
    call per file: a build carries thousands of files over."""
    os.makedirs(dst, exist_ok=True)
    with os.scandir(src) as entries:
        for entry in entries:
            target = os.path.join(dst, entry.name)
            if entry.is_dir(follow_symlinks=False):
                link_tree(entry.path, target)
                continue
            try:
                os.link(entry.path, target, follow_symlinks=False)
            except FileExistsError:
                pass


def carry_over(path: Path, output: Path, stage: Path) -> Path | None:
    """Link ``path`` of the current output (if there) into the new one; where
    it is in the new one, or None when ``path`` lies outside the output."""
    if not path.is_relative_to(output):
        return None
    staged = stage / path.relative_to(output)
    if path.is_dir():
        link_tree(path, staged)
    return staged


def publish(stage: Path, output: Path) -> Path | None:
    """Make ``stage`` the new ``output``: the build's last change, done whole
    or not at all.  Returns where the previous output now is, for the caller
    to remove once the build is done (None when there was none)."""
    if output.exists() and _exchange(stage, output):
        return stage  # stage now holds the previous output
    old = beside(output, "old")
    if old.exists():
        shutil.rmtree(old)
    if output.exists():
        output.rename(old)
    try:
        stage.rename(output)
    except BaseException:
        if old.exists() and not output.exists():
            old.rename(output)
        raise
    return old if old.exists() else None


def retire(old: Path | None, output: Path) -> None:
    """Keep the previous output, once the new one is in place, as the next
    build's starting point (see :func:`staging`); removed instead when it
    cannot be kept, and what cannot be removed now is removed by the next build."""
    if old is None:
        return
    try:
        old.rename(_previous(output))
    except OSError:
        shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where unsupported."""
    renameat2 = getattr(libc(), "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)
