"""Nothing reportgen did not write is ever moved, emptied or deleted; the
archive changes whole or not at all; stale staging dirs go; builds queue."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.core import atomic
from reportgen.core.errors import WriteRefused
from reportgen.site import archive
from tests.golden import ERRORS, cwd, lay_out


def tree(root: Path) -> dict[str, tuple[int, bytes | None, int]]:
    """Every entry under ``root`` (and root itself): mode, bytes, mtime of files."""
    entries = {}
    for path in [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]:
        st = path.lstat()
        data = path.read_bytes() if path.is_file() else None
        mtime = st.st_mtime_ns if data is not None else 0
        entries[path.relative_to(root.parent).as_posix()] = (st.st_mode, data, mtime)
    return entries


def build(project: Path, *args: str) -> tuple[int, str]:
    with cwd(project):
        result = CliRunner().invoke(main, ["build", *args])
    return result.exit_code, result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return lay_out(ERRORS / "_base", tmp_path / "project")


def foreign_dir(parent: Path) -> Path:
    mine = parent / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes\n")
    (mine / "sub" / "photo.jpg").write_bytes(b"\xff\xd8 photo")
    return mine


def test_output_on_a_foreign_directory_is_refused_and_untouched(project: Path,
                                                                tmp_path: Path) -> None:
    mine = foreign_dir(tmp_path)
    before, beside = tree(mine), sorted(os.listdir(tmp_path))
    status, stderr = build(project, "-o", str(mine))
    assert (status, stderr) == (2, (f"site.yml:1:1: refusing output directory '{mine}': it is "
                                   "not empty and is not a reportgen output (it has no "
                                   ".reportgen-manifest.json)\n"))
    assert tree(mine) == before
    assert sorted(os.listdir(tmp_path)) == beside


@pytest.mark.parametrize("how", ["-o", "site.yml"])
def test_output_naming_a_file_is_refused_and_untouched(project: Path, tmp_path: Path,
                                                        how: str) -> None:
    mine = tmp_path / "thesis.txt"
    mine.write_text("four years of work\n")
    if how == "site.yml":
        (project / "site.yml").write_text((project / "site.yml").read_text()
                                          + f"output: {mine}\n")
    before, beside = tree(mine), sorted(os.listdir(tmp_path))
    status, stderr = build(project, *(["-o", str(mine)] if how == "-o" else []))
    assert status == 2
    assert stderr == (f"site.yml:1:1: refusing output directory '{mine}': it exists and "
                      "is not a directory\n")
    assert tree(mine) == before
    assert sorted(os.listdir(tmp_path)) == beside


def test_an_empty_directory_and_an_earlier_output_are_accepted(project: Path,
                                                               tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build(project, "-o", str(empty))[0] == 0
    assert (empty / "r" / "report.txt").is_file()
    assert build(project, "-o", str(empty))[0] == 0


@pytest.mark.parametrize("kind", ["dir", "file"])
def test_a_foreign_archive_is_refused_and_untouched(project: Path, tmp_path: Path,
                                                    kind: str) -> None:
    if kind == "dir":
        mine = foreign_dir(tmp_path)
        reason = "it is not empty and is not a reportgen archive (no <slug>/index.json)"
    else:
        mine = tmp_path / "mine"
        mine.write_text("not an archive\n")
        reason = "it exists and is not a directory"
    (project / "site.yml").write_text("reports: [reports/r]\nformats: [txt, pdf]\n"
                                      f"archive: {mine}\n")
    before = tree(mine)
    status, stderr = build(project)
    assert (status, stderr) == (2, (f"site.yml:1:1: refusing archive directory '{mine}': "
                                   f"{reason}\n"))
    assert tree(mine) == before
    assert not (project / "output").exists()


def sums_ok(folder: Path) -> None:
    """What `sha256sum -c SHA256SUMS` checks, read as UTF-8."""
    for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def test_archive_of_a_non_ascii_slug_is_utf8_and_whole(tmp_path: Path) -> None:
    import datetime as dt

    archive.add_snapshot(tmp_path, "überblick-état", dt.date(2026, 1, 2), b"%PDF-one")
    folder = tmp_path / "überblick-état"
    sums_ok(folder)
    assert len(archive.snapshots(tmp_path, "überblick-état")) == 1


@pytest.mark.parametrize("full", ["r-2026-01-02-", archive.INDEX, archive.SUMS])  # PDF, lists
def test_archive_write_failing_midway_changes_nothing(tmp_path: Path, full: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    day = dt.date(2026, 1, 2)
    archive.add_snapshot(tmp_path, "r", day, b"%PDF-one")
    before = tree(tmp_path / "r")
    real = atomic.replacing

    def full_disk(target: Path, data: bytes, **options: Any) -> Any:
        if target.name.startswith(full):  # the other two are written
            raise OSError(28, "No space left on device")
        return real(target, data, **options)

    monkeypatch.setattr(atomic, "replacing", full_disk)
    with pytest.raises(WriteRefused, match="No space left on device"):
        archive.add_snapshot(tmp_path, "r", day, b"%PDF-two")
    assert tree(tmp_path / "r") == before


def test_stale_staging_dirs_are_removed_by_the_next_build(project: Path) -> None:
    assert build(project)[0] == 0
    stale = project / ".output.new-killed"
    (stale / "r").mkdir(parents=True)
    (stale / "r" / "report.txt").write_text("half")
    status, stderr = build(project)  # nothing changed: still cleans up
    assert status == 0, stderr
    assert not stale.exists()
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == [
        ".output.lock"]


def test_a_second_build_waits_for_the_first(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with (project / ".output.lock").open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        second = subprocess.Popen([sys.executable, "-m", "reportgen", "build"], cwd=project,
                                  stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(3)
        assert second.poll() is None  # still waiting
        assert not (project / "output").exists()
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    _out, stderr = second.communicate(timeout=60)
    assert second.returncode == 0, stderr
    assert stderr.splitlines()[0] == (f"waiting: another build of {project / 'output'} "
                                      "is running")
    assert (project / "output" / "r" / "report.txt").is_file()
