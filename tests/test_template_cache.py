"""Compiled templates kept between builds (render/template_cache.py): used by
the next build, compiled again when the text changes, never in the way."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import pytest

from reportgen.render import template_cache
from tests.test_clean_failures import as_user, edit, project_with

ROOT = Path(__file__).resolve().parent.parent


def env(templates: Path, **settings: Any) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates), **settings)


def no_compiling(environment: jinja2.Environment) -> jinja2.Environment:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("compiled, not loaded from the cache")

    environment.compile = refuse  # type: ignore[method-assign,assignment]
    return environment


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text("{% if x %}\nhello {{ x }}{% endif %}\n")
    return folder


def cached(templates: Path, cache: Path, **settings: Any) -> jinja2.Environment:
    environment = env(templates, **settings)
    environment.bytecode_cache = template_cache.open_cache(cache, environment)
    assert environment.bytecode_cache is not None
    return environment


def test_a_second_process_loads_the_template_instead_of_compiling_it(
        templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / ".output.cache" / "jinja"
    assert cached(templates, cache).get_template("page.html").render(x=1) == "\nhello 1"
    assert len(list(cache.iterdir())) == 1
    again = no_compiling(cached(templates, cache))
    assert again.get_template("page.html").render(x=2) == "\nhello 2"


def test_the_cache_is_private_to_its_owner(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / ".output.cache" / "jinja"
    cached(templates, cache).get_template("page.html")
    for path in (cache.parent, cache):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    (entry,) = cache.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_a_changed_template_is_compiled_again(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "jinja"
    serving = cached(templates, cache)  # `reportgen serve`: one environment throughout
    assert serving.get_template("page.html").render(x=1) == "\nhello 1"
    page = templates / "page.html"
    page.write_text("bye {{ x }}\n")
    os.utime(page, (1, 1))  # a new modification time, however coarse the clock
    assert serving.get_template("page.html").render(x=1) == "bye 1"
    assert cached(templates, cache).get_template("page.html").render(x=3) == "bye 3"


def test_other_settings_do_not_share_compiled_code(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "jinja"
    assert cached(templates, cache).get_template("page.html").render(x=1) == "\nhello 1"
    trimmed = cached(templates, cache, trim_blocks=True)
    assert trimmed.get_template("page.html").render(x=1) == "hello 1"
    assert len(list(cache.iterdir())) == 2


def test_a_damaged_entry_is_compiled_again(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "jinja"
    cached(templates, cache).get_template("page.html")
    (entry,) = cache.iterdir()
    entry.write_bytes(entry.read_bytes()[:40])  # cut short in the pickled checksum
    assert cached(templates, cache).get_template("page.html").render(x=1) == "\nhello 1"
    entry.write_bytes(b"")
    assert cached(templates, cache).get_template("page.html").render(x=1) == "\nhello 1"


def test_a_directory_others_may_write_in_is_not_used(templates: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "jinja").mkdir(parents=True)
    shared.chmod(0o777)
    assert template_cache.open_cache(shared / "jinja", env(templates)) is None
    shared.chmod(0o700)
    (shared / "jinja").chmod(0o770)
    assert template_cache.open_cache(shared / "jinja", env(templates)) is None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / "linked").symlink_to(elsewhere)
    assert template_cache.open_cache(tmp_path / "linked" / "jinja", env(templates)) is None


def test_no_directory_or_no_room_means_compiling(templates: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("")
    assert template_cache.open_cache(tmp_path / "file" / "jinja", env(templates)) is None

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    environment = cached(templates, tmp_path / "jinja")
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)  # what Jinja2 writes with
    assert environment.get_template("page.html").render(x=1) == "\nhello 1"
    assert list((tmp_path / "jinja").iterdir()) == []


# --- in a build -------------------------------------------------------------------

def build(project: Path) -> None:
    """A build in a process of its own: nothing compiled in this one is reused."""
    done = subprocess.run([sys.executable, "-m", "reportgen", "build"], cwd=project,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


def entries(cache: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in cache.iterdir()}


def test_a_build_keeps_its_templates_beside_the_output_and_the_next_one_uses_them(
        tmp_path: Path) -> None:
    project = project_with(tmp_path / "p", "html, txt, md")
    build(project)
    cache = project / ".output.cache" / "jinja"
    first = entries(cache)
    assert len(first) >= 4  # report.html, base.html, macros.html, headline.html, index.html
    assert not list((project / "output").rglob("*.jinja"))
    edit(project)
    build(project)
    assert entries(cache) == first  # none written again: none compiled


def test_a_cache_the_build_cannot_write_still_builds_the_same_site(tmp_path: Path) -> None:
    writable = project_with(tmp_path / "w", "html, txt, md")
    build(writable)
    project = tmp_path / "p"
    shutil.copytree(writable, project)
    cache = project / ".output.cache" / "jinja"
    for entry in cache.iterdir():
        entry.unlink()
    for each in (writable, project):
        edit(each)
    build(writable)
    cache.chmod(0o500)
    try:
        status, stderr = as_user(project)  # bound by the permission bits, also as root
    finally:
        cache.chmod(0o700)
    assert status == 0 and "rendered 1 of 1" in stderr, stderr
    assert list(cache.iterdir()) == []
    for name in ("index.html", "r/index.html", "r/report.txt", "r/report.md"):
        assert (project / "output" / name).read_bytes() == (
            writable / "output" / name).read_bytes(), name
