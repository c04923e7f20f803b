"""A failed build changes nothing, a refused write is one line, the site is
readable by a web server and links only to files it has (issue 21).

The read-only cases need the permission bits to count: as root (CI) each
such build runs without the capabilities that let root ignore them; as any
other user, as that user.  Neither case is skipped.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from reportgen.core.documents import Document
from reportgen.core.errors import Problem, WriteRefused
from reportgen.read import validate
from reportgen.site import archive as archive_mod
from reportgen.site import cache
from reportgen.site import output as output_stage
from tests.golden import ERRORS, lay_out, run_build
from tests.test_data_loss import tree
from tests.test_results_format import pooled_project

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FILLED = "  - title: fsync\n    metrics: [disk.write_fsync]\n    analysis: |\n      Slower.\n"


def project_with(where: Path, formats: str, *, archive: str = "") -> Path:
    """The error tests' base project, every section's text written."""
    project = lay_out(ERRORS / "_base", where)
    report = project / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace(
        "  - title: fsync\n    metrics: [disk.write_fsync]\n", FILLED))
    (project / "site.yml").write_text(f"title: Test site\nreports: [reports/r]\n"
                                      f"formats: [{formats}]\n"
                                      + (f"archive: {archive}\n" if archive else ""))
    return project


def edit(project: Path, text: str = "Done again.") -> None:
    """Change the report's summary, so the next build renders it (and its PDF) again."""
    report = project / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace("  Done.\n", f"  {text}\n"))


def archive_state(folder: Path) -> tuple[list[str], bytes | None]:
    """Every file of the archive, and the report's SHA256SUMS."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    sums = folder / "r" / "SHA256SUMS"
    return files, sums.read_bytes() if sums.is_file() else None


BROKEN = "warning: broken link '#nowhere': no anchor '#nowhere' in index.html"
STRICT = BROKEN.removeprefix("warning: ")  # what --strict fails with: an error
ROUNDS = "reports/r/report.yml:1:1: warning: verdicts need at least 5 rounds"  # not --strict


def broken_anchor(stderr: str) -> list[str]:
    """The problems on stderr other than the rounds advice, each without its
    line and column (the page with a PDF link has more lines above it)."""
    lines = [line for line in stderr.splitlines()
             if not line.startswith((ROUNDS, "built r ", "rendered 1 of 1"))]
    return [re.sub(r"^r/index\.html:\d+:\d+: ", "", line) for line in lines]


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- 1. a failing build archives nothing ---------------------------------------------

@pytest.mark.parametrize("archive", ["", "archive"])  # inside output/, beside it
def test_a_strict_build_failing_its_link_check_leaves_the_archive_as_it_was(
        tmp_path: Path, archive: str) -> None:
    project = project_with(tmp_path / "p", "html, txt, pdf", archive=archive)
    assert run_build(project)[0] == 0
    folder = project / (archive or "output/archive")
    before, output_before = archive_state(folder), tree(project / "output")
    assert len(before[0]) == 4  # .lock, index.json, SHA256SUMS, one PDF
    edit(project, "Done, see [there](#nowhere).")
    status, stderr = run_build(project, "--strict")
    assert status == 2
    assert broken_anchor(stderr) == [STRICT]  # the only error: the link check's
    assert archive_state(folder) == before
    assert tree(project / "output") == output_before
    assert [p.name for p in project.iterdir() if ".new-" in p.name] == []
    # the same build without --strict archives the new PDF beside the old one
    assert run_build(project)[0] == 0
    files, sums = archive_state(folder)
    assert len(files) == 5 and sums is not None and len(sums.splitlines()) == 2
    for line in sums.decode().splitlines():  # what `sha256sum -c` checks
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / "r" / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("archive", ["", "archive"])
def test_a_failing_swap_takes_the_new_snapshot_back(tmp_path: Path, archive: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    project = project_with(tmp_path / "p", "html, txt, pdf", archive=archive)
    assert run_build(project)[0] == 0
    folder = project / (archive or "output/archive")
    before, output_before = archive_state(folder), tree(project / "output")
    edit(project)

    def full_disk(stage: Path, _output: Path) -> None:
        assert (stage / "r" / "report.pdf").is_file()  # the new output was complete
        assert len(list(folder.glob("r/*.pdf"))) == (2 if archive else 1)  # snapshot added
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output_stage, "publish", full_disk)
    status, stderr = run_build(project)
    assert (status, stderr.splitlines()[-1]) == (1, "reportgen: No space left on device")
    assert archive_state(folder) == before
    assert tree(project / "output") == output_before
    assert [p.name for p in project.iterdir() if ".new-" in p.name] == []


@pytest.mark.parametrize("fails", ["first", "second"])
def test_a_failing_snapshot_takes_the_others_back_and_publishes_nothing(
        tmp_path: Path, fails: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project = project_with(tmp_path / "p", "txt, pdf", archive="archive")
    shutil.copytree(project / "reports" / "r", project / "reports" / "s")
    (project / "site.yml").write_text("title: T\nreports: [reports/*]\nformats: [txt, pdf]\n"
                                      "archive: archive\n")
    assert run_build(project)[0] == 0
    before, output_before = contents(project / "archive"), tree(project / "output")
    edit(project)
    (project / "reports" / "s" / "report.yml").write_text(
        (project / "reports" / "r" / "report.yml").read_text())
    real, added = archive_mod.add_snapshot, list[str]()

    def flaky(archive_dir: Path, slug: str, *rest: Any) -> archive_mod.Snapshot:
        if len(added) == ("first", "second").index(fails):
            raise WriteRefused(f"reportgen: {archive_dir / slug}: cannot write the PDF archive "
                               f"of report {slug}: Disk quota exceeded")
        added.append(slug)
        return real(archive_dir, slug, *rest)

    monkeypatch.setattr(archive_mod, "add_snapshot", flaky)
    status, stderr = run_build(project)
    assert status == 1 and stderr.endswith("Disk quota exceeded\n"), stderr
    assert contents(project / "archive") == before
    assert tree(project / "output") == output_before


# --- 2. refused writes: found first, one line, exit 1 --------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project built once with every format, its PDF archive beside the output."""
    project = project_with(tmp_path_factory.mktemp("built") / "p", "html, pdf, txt, md",
                           archive="archive")
    assert run_build(project)[0] == 0
    return project


@pytest.fixture
def unprivileged(built: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of ``built`` whose report was edited, so a build has work to do."""
    project = tmp_path / "p"
    shutil.copytree(built, project, symlinks=True)
    edit(project)
    try:
        yield project
    finally:  # a user other than root needs write permission to delete it
        for path in [project, *project.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)


# Capabilities that let root ignore permission bits (linux/capability.h).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


def _without_override() -> None:
    """In the child, before exec: drop root's power to ignore permission bits
    from the bounding set, so the program it runs has it neither."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def as_user(project: Path, *args: str) -> tuple[int, str]:
    """`reportgen build ARGS` bound by the permission bits: as root (CI),
    without the capabilities that override them; as any other user, as it is."""
    done = subprocess.run([sys.executable, "-m", "reportgen", "build", *args], cwd=project,
                          env=ENV, capture_output=True, text=True, timeout=300, check=False,
                          preexec_fn=_without_override if os.geteuid() == 0 else None)
    return done.returncode, done.stderr


def read_only(path: Path) -> None:
    for entry in [path, *path.rglob("*")]:
        if not entry.is_symlink():
            entry.chmod(stat.S_IMODE(entry.stat().st_mode) & ~0o222)


FORMAT_SETS = ["txt", "md", "html", "pdf", "html,txt,md", "html,pdf,txt,md"]


@pytest.mark.parametrize("formats", FORMAT_SETS)
def test_a_read_only_output_is_refused_before_anything_is_written(
        unprivileged: Path, formats: str) -> None:
    project, output = unprivileged, unprivileged / "output"
    read_only(output)
    before, archive = tree(output), tree(project / "archive")
    status, stderr = as_user(project, "--formats", formats)
    assert (status, stderr) == (1, (
        f"reportgen: {output}: cannot write here (permission denied): the previous output "
        f"is set aside once the new one replaces it and later builds delete from it; make it writable (chmod -R u+w "
        f"'{output}') or choose another output directory with -o\n"))
    assert tree(output) == before
    assert tree(project / "archive") == archive
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == [
        ".output.cache", ".output.lock"]


def test_a_read_only_folder_deep_in_the_output_is_refused(unprivileged: Path) -> None:
    """Every folder of the previous output is checked, not only its top."""
    project, output = unprivileged, unprivileged / "output"
    deep = output / "r" / "charts"
    deep.chmod(0o555)
    before = tree(output)
    status, stderr = as_user(project, "--formats", "html")
    assert (status, stderr) == (1, (
        f"reportgen: {deep}: cannot write here (permission denied): the previous output "
        f"is set aside once the new one replaces it and later builds delete from it; make it writable (chmod -R u+w "
        f"'{output}') or choose another output directory with -o\n"))
    assert tree(output) == before


def test_a_read_only_parent_is_refused_before_the_lock(unprivileged: Path) -> None:
    project = unprivileged
    (project / ".output.lock").unlink()
    before, mode = tree(project), stat.S_IMODE(project.stat().st_mode)
    project.chmod(0o555)
    status, stderr = as_user(project)
    project.chmod(mode)
    assert (status, stderr) == (1, (
        f"reportgen: {project}: cannot write here (permission denied): the build writes "
        "its lock and staging directory in the output's parent; choose another output "
        "directory with -o\n"))
    assert tree(project) == before


@pytest.mark.parametrize("formats", ["pdf", "html,pdf,txt,md"])
def test_a_read_only_archive_is_refused_when_a_pdf_is_built(unprivileged: Path,
                                                            formats: str) -> None:
    project, output, folder = unprivileged, unprivileged / "output", unprivileged / "archive"
    read_only(folder)
    before, archive = tree(output), tree(folder)
    status, stderr = as_user(project, "--formats", formats)
    assert (status, stderr) == (1, (
        f"reportgen: {folder}: cannot write here (permission denied): the PDF archive gets "
        "the new snapshots; make it writable, set another archive: in site.yml, or leave "
        "pdf out of --formats\n"))
    assert (tree(output), tree(folder)) == (before, archive)
    # without a PDF the archive is not written, so not needed
    assert as_user(project, "--formats", "html,txt")[0] == 0


# --- 3. the index links the files the build wrote -------------------------------------

_LINK = re.compile(r'(?:href|src)="([^"]*)"')


def local_links(page: Path) -> list[str]:
    return [unquote(urlsplit(url).path) for url in _LINK.findall(page.read_text())
            if not urlsplit(url).scheme and urlsplit(url).path]


def test_a_pooled_environment_is_linked_by_the_names_it_was_written_under(
        tmp_path: Path) -> None:
    project = pooled_project(tmp_path)
    report = project / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace(
        "  - title: fsync\n    metrics: [disk.write_fsync]\n", FILLED))
    (project / "site.yml").write_text("title: T\nreports: [reports/r]\nformats: [html, txt]\n")
    status, stderr = run_build(project, "--strict")
    assert status == 0, stderr
    output = project / "output"
    links = local_links(output / "index.html")
    assert {"r/data/guest.1.json", "r/data/guest.2.json", "r/data/native.json"} <= set(links)
    assert [link for link in links if not (output / link).is_file()] == []
    page = output / "r" / "index.html"
    assert [link for link in local_links(page) if not (page.parent / link).exists()] == []


# --- 4. one rule for in-page anchors ----------------------------------------------------

def test_a_missing_anchor_is_the_same_warning_with_and_without_the_pdf(
        tmp_path: Path) -> None:
    for formats in ("html, txt", "html, txt, pdf"):
        project = project_with(tmp_path / formats.replace(", ", "-"), formats)
        edit(project, "Done, see [there](#nowhere).")
        status, stderr = run_build(project)
        assert (status, broken_anchor(stderr)) == (0, [BROKEN]), stderr
        assert ("pdf" in formats) == (project / "output" / "r" / "report.pdf").is_file()
        status, strict = run_build(project, "--strict", "-o", "strict")
        assert (status, broken_anchor(strict)) == (2, [STRICT]), strict
        assert not (project / "strict").exists()


def test_a_missing_anchor_in_a_pdf_built_without_its_page_is_the_same_rule(
        tmp_path: Path) -> None:
    project = project_with(tmp_path / "p", "txt, pdf")
    edit(project, "Done, see [there](#nowhere) and [the summary](#summary).")
    warning = ("r/report.pdf:1:1: warning: broken link '#nowhere': no anchor '#nowhere' in "
               "report.pdf")
    status, stderr = run_build(project)
    assert (status, broken_anchor(stderr)) == (0, [warning]), stderr
    status, stderr = run_build(project, "--strict", "-o", "strict")
    assert (status, broken_anchor(stderr)) == (2, [warning.replace("warning: ", "")]), stderr
    assert not (project / "strict").exists()


# --- 6. a new release checks site.yml again ---------------------------------------------

def test_a_site_yml_accepted_before_is_checked_again_by_new_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = project_with(tmp_path / "p", "txt")
    assert run_build(project)[0] == 0
    real = validate.problems

    def stricter(doc: Document, name: str) -> list[Problem]:  # the next release's rule
        found = real(doc, name)
        if name == "site":
            found.append(doc.problem(("title",), "'title' is refused by this version"))
        return found

    monkeypatch.setattr(validate, "problems", stricter)
    # the same code, the same site.yml: the check is skipped
    status, stderr = run_build(project)
    assert (status, stderr.splitlines()[-1]) == (0, "nothing changed: output is up to date")
    monkeypatch.setattr(cache, "code_key", lambda: "the code of the next release")
    assert run_build(project) == (2, "site.yml:1:8: 'title' is refused by this version\n")


# --- 7. the published tree has the umask's permissions ----------------------------------

def directory_modes(root: Path) -> set[str]:
    return {f"{p.relative_to(root.parent)} {stat.S_IMODE(p.stat().st_mode):o}"
            for p in [root, *root.rglob("*")] if p.is_dir()}


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o755), (0o027, 0o750)])
def test_the_output_has_the_umask_permissions(tmp_path: Path, umask: int, mode: int) -> None:
    project = project_with(tmp_path / "p", "html, txt, md, pdf")
    previous = os.umask(umask)
    try:
        assert run_build(project)[0] == 0  # cold
        output = project / "output"
        dirs = directory_modes(output)
        assert len(dirs) >= 5  # output, archive/, archive/r, r/, r/charts, r/data
        assert {d.rsplit(" ", 1)[1] for d in dirs} == {f"{mode:o}"}, dirs
        edit(project)
        assert run_build(project)[0] == 0  # incremental
        assert {d.rsplit(" ", 1)[1] for d in directory_modes(output)} == {f"{mode:o}"}
    finally:
        os.umask(previous)
