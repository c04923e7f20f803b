"""The PDF archive: new content adds a snapshot, nothing is ever replaced or removed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from reportgen.core.errors import BuildError, WriteRefused
from reportgen.site.archive import Snapshot, add_snapshot, snapshot_name, snapshots

DAY = dt.date(2026, 6, 9)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_sums(folder: Path) -> None:
    """What `sha256sum -c SHA256SUMS` checks, and that it lists every snapshot."""
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        assert sha((folder / name).read_bytes()) == digest
        listed[name] = digest
    assert set(listed) == {p.name for p in folder.glob("*.pdf")}


def test_first_snapshot(tmp_path: Path) -> None:
    snap = add_snapshot(tmp_path, "bhyve-smp", DAY, b"%PDF-one")
    name = f"bhyve-smp-2026-06-09-{sha(b'%PDF-one')[:8]}.pdf"
    assert snap == Snapshot(file=name, sha256=sha(b"%PDF-one"), date="2026-06-09", size=8)
    folder = tmp_path / "bhyve-smp"
    assert (folder / name).read_bytes() == b"%PDF-one"
    assert snapshots(tmp_path, "bhyve-smp") == [snap]
    index = json.loads((folder / "index.json").read_text())
    assert index["format"] == "reportgen-archive/1"
    assert index["snapshots"] == [{"file": name, "sha256": sha(b"%PDF-one"),
                                   "date": "2026-06-09", "size": 8}]
    check_sums(folder)
    # no temporary file is left, and the files are readable by all
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "SHA256SUMS", name,
                                                         "index.json"]
    assert {(folder / f).stat().st_mode & 0o777 for f in (name, "SHA256SUMS", "index.json")} \
        == {0o644}


def test_same_content_adds_nothing(tmp_path: Path) -> None:
    first = add_snapshot(tmp_path, "r", DAY, b"%PDF-one")
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").glob("*.pdf")}
    again = add_snapshot(tmp_path, "r", DAY, b"%PDF-one")
    assert again == first
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").glob("*.pdf")} == before
    assert snapshots(tmp_path, "r") == [first]


def test_changed_content_adds_a_snapshot_beside_the_old(tmp_path: Path) -> None:
    old = add_snapshot(tmp_path, "r", DAY, b"%PDF-one")
    new = add_snapshot(tmp_path, "r", DAY, b"%PDF-two")
    later = add_snapshot(tmp_path, "r", DAY + dt.timedelta(days=1), b"%PDF-three")
    assert len({old.file, new.file, later.file}) == 3
    assert snapshots(tmp_path, "r") == [later, new, old]  # newest first
    for snap, data in ((old, b"%PDF-one"), (new, b"%PDF-two"), (later, b"%PDF-three")):
        assert (tmp_path / "r" / snap.file).read_bytes() == data
    check_sums(tmp_path / "r")


def test_an_older_report_date_sorts_below_newer_ones(tmp_path: Path) -> None:
    june = add_snapshot(tmp_path, "r", DAY, b"%PDF-june")
    may = add_snapshot(tmp_path, "r", dt.date(2026, 5, 1), b"%PDF-may")
    assert snapshots(tmp_path, "r") == [june, may]


def test_a_foreign_file_under_the_name_is_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    folder.mkdir()
    name = snapshot_name("r", DAY, b"%PDF-one")
    (folder / name).write_bytes(b"something else")
    with pytest.raises(BuildError, match="report r: archive file .* exists with other content"):
        add_snapshot(tmp_path, "r", DAY, b"%PDF-one")
    assert (folder / name).read_bytes() == b"something else"


def test_a_lost_index_is_rebuilt_from_the_files(tmp_path: Path) -> None:
    one = add_snapshot(tmp_path, "r", DAY, b"%PDF-one")
    (tmp_path / "r" / "index.json").unlink()
    (tmp_path / "r" / "SHA256SUMS").unlink()
    assert snapshots(tmp_path, "r") == []
    two = add_snapshot(tmp_path, "r", DAY + dt.timedelta(days=1), b"%PDF-two")
    assert snapshots(tmp_path, "r") == [two, one]
    check_sums(tmp_path / "r")


def test_no_archive_yet_means_no_snapshots(tmp_path: Path) -> None:
    assert snapshots(tmp_path / "missing", "r") == []


def test_a_broken_index_is_an_error_naming_it(tmp_path: Path) -> None:
    add_snapshot(tmp_path, "r", DAY, b"%PDF-one")
    (tmp_path / "r" / "index.json").write_text("{not json")
    with pytest.raises(BuildError, match=r"report r: cannot read the archive index .*index.json"):
        snapshots(tmp_path, "r")


def test_an_unwritable_archive_is_a_refused_write_naming_the_report(tmp_path: Path) -> None:
    (tmp_path / "r").write_text("a file where the folder should be")
    with pytest.raises(WriteRefused, match=f"reportgen: {tmp_path / 'r'}: cannot write the "
                                           "PDF archive of report r: "):
        add_snapshot(tmp_path, "r", DAY, b"%PDF-one")
