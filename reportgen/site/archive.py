"""The PDF archive: every distinct PDF of a report, kept for good.

Layout, one folder per report::

    <archive>/<slug>/<slug>-<date>-<sha8>.pdf   one file per distinct PDF content
    <archive>/<slug>/SHA256SUMS                 `sha256sum -c` format, newest first
    <archive>/<slug>/index.json                 the snapshots, newest first

A snapshot is written only when its content is new, through a temporary file
that is synced and then linked into place, so a snapshot is either whole or
absent and an existing file is never replaced.  Nothing here deletes a
snapshot, but for those a build has just added when the build then fails
(:func:`adding`).  ``index.json`` and ``SHA256SUMS`` are rewritten atomically from the
snapshots on disk, so a lost or stale index is repaired by the next build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reportgen.core import atomic
from reportgen.core.errors import BuildError, WriteRefused

INDEX = "index.json"
SUMS = "SHA256SUMS"
INDEX_FORMAT = "reportgen-archive/1"
_NAME = re.compile(r"^(?P<slug>.+)-(?P<date>\d{4}-\d{2}-\d{2})-(?P<sha8>[0-9a-f]{8})\.pdf$")


@dataclass(frozen=True)
class Snapshot:
    """One archived PDF."""

    file: str  # name, e.g. "bhyve-smp-2026-06-09-1a2b3c4d.pdf"
    sha256: str
    date: str  # the report's date, ISO format
    size: int


def snapshot_name(slug: str, date: dt.date, pdf: bytes) -> str:
    """The archive file name of ``pdf``: ``<slug>-<date>-<sha8>.pdf``."""
    return f"{slug}-{date.isoformat()}-{hashlib.sha256(pdf).hexdigest()[:8]}.pdf"


def add_snapshot(archive_dir: Path, slug: str, date: dt.date, pdf: bytes) -> Snapshot:
    """Archive ``pdf`` unless a snapshot with that content exists; return its snapshot.

    The PDF, ``index.json`` and ``SHA256SUMS`` change together: all three are
    encoded and written to synced temporary files first, so a full disk or an
    unencodable name changes nothing; then the PDF is linked into place and
    the two lists replaced.  Raises :class:`WriteRefused` if the archive cannot
    be written, :class:`BuildError` if a file with the snapshot's name holds
    other content (it is left untouched).
    """
    folder = Path(archive_dir) / slug
    snap = _snapshot(slug, date, pdf)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder):
            target = folder / snap.file
            fresh = not target.exists()
            if not fresh and _sha256(target) != snap.sha256:
                raise BuildError(f"report {slug}: archive file {target} exists with other"
                                 " content; it is left as it is and no snapshot was added")
            listed = _merge(folder, slug, _read_index(folder, slug), snap)
            _commit(folder, pdf if fresh else None, snap.file, *_lists(slug, listed))
    except OSError as exc:
        raise WriteRefused(f"reportgen: {folder}: cannot write the PDF archive of report "
                           f"{slug}: {exc.strerror or exc}") from None
    return snap


Pending = tuple[str, dt.date, bytes]  # slug, report date, PDF


def add_all(archive_dir: Path, pending: Sequence[Pending]) -> None:
    """Add every ``pending`` snapshot (into an archive that is not live yet)."""
    for slug, date, pdf in pending:
        add_snapshot(archive_dir, slug, date, pdf)


@contextlib.contextmanager
def adding(archive_dir: Path, pending: Sequence[Pending]) -> Iterator[None]:
    """Add the ``pending`` snapshots, then run the block; when adding one of
    them or the block fails (the build's last step, replacing its output),
    take back every snapshot added here, so the archive is as it was."""
    undo: list[_Before] = []
    try:
        for slug, date, pdf in pending:
            folder = Path(archive_dir) / slug
            undo.append(_Before.of(folder))
            undo[-1].added = add_snapshot(archive_dir, slug, date, pdf).file
        yield
    except BaseException:
        for before in reversed(undo):
            before.restore()
        raise


@dataclass
class _Before:
    """A report's archive folder before a snapshot was added: enough to undo the add."""

    folder: Path
    existed: bool
    pdfs: set[str]
    lists: dict[str, bytes | None]  # index.json and SHA256SUMS, None when absent
    added: str = field(default="")

    @classmethod
    def of(cls, folder: Path) -> _Before:
        lists = {name: (folder / name).read_bytes() if (folder / name).is_file() else None
                 for name in (INDEX, SUMS)}
        return cls(folder, folder.is_dir(), {p.name for p in folder.glob("*.pdf")}, lists)

    def restore(self) -> None:
        if not self.existed:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        for name, content in self.lists.items():  # the lists first: they never name a lost file
            if content is None:
                (self.folder / name).unlink(missing_ok=True)
            else:
                atomic.write_bytes(self.folder / name, content)
        if self.added and self.added not in self.pdfs:
            (self.folder / self.added).unlink(missing_ok=True)


def with_snapshot(archive_dir: Path, slug: str, date: dt.date, pdf: bytes) -> list[Snapshot]:
    """The snapshots ``add_snapshot`` would list, newest first; writes nothing
    (the report page links them before the main process archives the PDF)."""
    folder = Path(archive_dir) / slug
    return _merge(folder, slug, _read_index(folder, slug), _snapshot(slug, date, pdf))


def _snapshot(slug: str, date: dt.date, pdf: bytes) -> Snapshot:
    return Snapshot(file=snapshot_name(slug, date, pdf), sha256=hashlib.sha256(pdf).hexdigest(),
                    date=date.isoformat(), size=len(pdf))


def snapshots(archive_dir: Path, slug: str) -> list[Snapshot]:
    """The report's snapshots, newest first, as listed in its ``index.json``."""
    return _read_index(Path(archive_dir) / slug, slug)


# --- internals -------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the report's archive folder (where the OS has one)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _commit(folder: Path, pdf: bytes | None, name: str, index: bytes, sums: bytes) -> None:
    """Write every temporary file, then link the new PDF (never replacing a
    file) and replace the two lists: what they list always exists."""
    with contextlib.ExitStack() as files:
        # Entered in reverse: each file lands as the stack unwinds, last in
        # first, so the PDF lands before the lists naming it.  After a failure
        # (a full disk, an existing PDF) the files not landed yet are removed.
        files.enter_context(atomic.replacing(folder / SUMS, sums, sync=True))
        files.enter_context(atomic.replacing(folder / INDEX, index, sync=True))
        if pdf is not None:
            files.enter_context(atomic.replacing(folder / name, pdf, sync=True,
                                                 overwrite=False))
    atomic.sync_dir(folder)


def _read_index(folder: Path, slug: str) -> list[Snapshot]:
    path = folder / INDEX
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BuildError(f"report {slug}: cannot read the archive index {path}: {exc}") from None
    try:
        return [Snapshot(file=str(s["file"]), sha256=str(s["sha256"]), date=str(s["date"]),
                         size=int(s["size"])) for s in data["snapshots"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise BuildError(f"report {slug}: the archive index {path} is not a"
                         f" {INDEX_FORMAT} index ({type(exc).__name__}: {exc})") from None


def _merge(folder: Path, slug: str, known: list[Snapshot], new: Snapshot) -> list[Snapshot]:
    """Every snapshot on disk, newest first.

    Newest means the latest report date; among equal dates, the one archived
    last.  ``new`` was archived last; the order of ``known`` (the old index)
    says which of the others came later.  Files missing from the index are
    hashed and placed by their date.
    """
    listed = {s.file: s for s in known}
    ordered: list[Snapshot] = [new]
    seen = {new.file}
    for snap in known:
        if snap.file not in seen and (folder / snap.file).is_file():
            ordered.append(snap)
            seen.add(snap.file)
    for path in sorted(folder.glob("*.pdf")):
        match = _NAME.match(path.name)
        if path.name in seen or not match or match["slug"] != slug:
            continue
        old = listed.get(path.name)
        size = path.stat().st_size
        if old is None or old.size != size:
            old = Snapshot(file=path.name, sha256=_sha256(path), date=match["date"], size=size)
        ordered.append(old)
        seen.add(path.name)
    # A stable sort by date keeps the order of addition among equal dates.
    return sorted(ordered, key=lambda s: s.date, reverse=True)


def _lists(slug: str, snaps: list[Snapshot]) -> tuple[bytes, bytes]:
    """``index.json`` and ``SHA256SUMS`` as UTF-8 bytes."""
    index = {"format": INDEX_FORMAT, "slug": slug, "snapshots": [asdict(s) for s in snaps]}
    text = json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    sums = "".join(f"{s.sha256}  {s.file}\n" for s in snaps)
    return text.encode("utf-8"), sums.encode("utf-8")
