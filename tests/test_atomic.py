"""Atomic writes: the target is the old file or the whole new one, and no
temporary file is left, whatever happens in between."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reportgen.core import atomic


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_write_bytes_replaces_whole_with_the_mode_asked(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.write_text("old")
    old_umask = os.umask(0o077)
    try:
        atomic.write_bytes(target, b"new", mode=0o755)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o755
    assert names(tmp_path) == ["x.json"]


def test_the_block_sees_the_new_data_and_the_target_the_old(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.write_text("old")
    with atomic.replacing(target, b"new", sync=True) as temporary:
        assert temporary.parent == tmp_path and temporary.read_bytes() == b"new"
        assert target.read_text() == "old"
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["x.json"]


@pytest.mark.parametrize("stop", [ValueError("bad content"), KeyboardInterrupt()])
def test_an_exception_in_the_block_leaves_the_target_and_no_trace(tmp_path: Path,
                                                                  stop: BaseException) -> None:
    target = tmp_path / "x.json"
    target.write_text("old")
    with pytest.raises(type(stop)), atomic.replacing(target, b"new"):
        raise stop
    assert target.read_text() == "old"
    assert names(tmp_path) == ["x.json"]


def test_without_overwrite_a_new_file_lands(tmp_path: Path) -> None:
    with atomic.replacing(tmp_path / "a.pdf", b"one", overwrite=False):
        pass
    assert (tmp_path / "a.pdf").read_bytes() == b"one"
    assert names(tmp_path) == ["a.pdf"]


def test_without_overwrite_a_file_made_meanwhile_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "a.pdf"
    with pytest.raises(FileExistsError), atomic.replacing(target, b"ours", overwrite=False):
        target.write_bytes(b"theirs")  # a racing writer
    assert target.read_bytes() == b"theirs"
    assert names(tmp_path) == ["a.pdf"]
