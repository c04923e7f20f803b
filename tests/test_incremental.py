"""An incremental build writes exactly what a cold build of the same inputs
writes: every file of the output, byte for byte, the manifest included.

Each case builds the example reports, changes something, builds again into
the same output (carrying unchanged reports and charts over), and compares
that output with a cold build of the changed project into a fresh one."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reportgen.analyse import stats
from reportgen.site import build
from tests.golden import cwd

EXAMPLES = Path(__file__).resolve().parent.parent / "reports"


def example_project(where: Path, formats: str) -> Path:
    """The example reports; the PDF archive outside the output, shared by both
    builds (a cold build of a site with an archive starts from that archive)."""
    shutil.copytree(EXAMPLES, where / "reports")
    (where / "site.yml").write_text(f"title: T\nreports: [reports/*]\nformats: [{formats}]\n"
                                    "archive: archive\n")
    return where


def run(root: Path, output: str) -> build.Result:
    with cwd(root):
        return build.build(Path("site.yml"), output_dir=Path(output), log=lambda _m: None)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def edit_text(root: Path) -> None:
    path = root / "reports" / "bhyve-smp" / "report.yml"
    path.write_text(path.read_text().replace("\nsummary: |\n", "\nsummary: |\n  One more.\n"))


def edit_data(root: Path) -> None:
    path = root / "reports" / "firecracker-aa" / "results" / "run-b.json"
    data = json.loads(path.read_text())
    for metric in data["metrics"]:
        metric["samples"] = [x * 1.01 for x in metric["samples"]]
    path.write_text(json.dumps(data, indent=2))


def remove_report(root: Path) -> None:
    shutil.rmtree(root / "reports" / "firecracker-aa")


def add_report(root: Path) -> None:
    shutil.copytree(root / "reports" / "bhyve-smp", root / "reports" / "bhyve-copy")


CASES: dict[str, tuple[str, Callable[[Path], None], list[str]]] = {
    # name: (formats, change, reports the incremental build renders)
    "text edit": ("html, txt, md", edit_text, ["bhyve-smp"]),
    "data edit": ("html, txt, md", edit_data, ["firecracker-aa"]),
    "report removed": ("html, txt, md", remove_report, []),
    "report added": ("html, txt, md", add_report, ["bhyve-copy"]),
    "text edit with PDF": ("html, pdf, txt, md", edit_text, ["bhyve-smp"]),
}


def assert_equals_a_cold_build(root: Path, rendered: list[str]) -> None:
    """Build ``root`` into output/, rendering ``rendered``, and cold into cold/:
    the same files, byte for byte."""
    assert sorted(run(root, "output").rendered) == rendered
    assert len(run(root, "cold").rendered) == len(list((root / "reports").iterdir()))
    incremental, cold = files(root / "output"), files(root / "cold")
    assert sorted(incremental) == sorted(cold)
    assert [name for name in cold if incremental[name] != cold[name]] == []


@pytest.mark.parametrize("case", CASES)
def test_incremental_build_equals_a_cold_build(tmp_path: Path, case: str) -> None:
    formats, change, rendered = CASES[case]
    root = example_project(tmp_path / "p", formats)
    assert sorted(run(root, "output").rendered) == sorted(p.name for p in EXAMPLES.iterdir())
    change(root)
    assert_equals_a_cold_build(root, rendered)


@pytest.mark.parametrize(("change", "tested"), [(edit_text, False), (edit_data, True)])
def test_rank_tests_run_again_only_when_the_data_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None],
        tested: bool) -> None:
    root = example_project(tmp_path / "p", "html, txt")
    run(root, "output")
    calls: list[str] = []
    real = stats.p_value
    monkeypatch.setattr(stats, "p_value",
                        lambda base, other: calls.append(base.id) or real(base, other))
    change(root)
    assert len(run(root, "output").rendered) == 1
    assert bool(calls) == tested


def edit_other_text(root: Path) -> None:
    path = root / "reports" / "qemu-tcg" / "report.yml"
    path.write_text(path.read_text().replace("\nsummary: |\n", "\nsummary: |\n  Another.\n"))


def inodes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_ino
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", [c for c in CASES if "PDF" not in c])
def test_a_build_that_starts_from_the_output_before_last_equals_a_cold_build(
        tmp_path: Path, case: str) -> None:
    """The third build starts from the output the second replaced, which
    lacks the second's edit: what it carries must be the current output's."""
    formats, change, rendered = CASES[case]
    root = example_project(tmp_path / "p", formats)
    run(root, "output")
    edit_other_text(root)
    assert run(root, "output").rendered == ["qemu-tcg"]
    before = inodes(root / "output")
    assert (root / ".output.prev").is_dir()
    change(root)
    assert_equals_a_cold_build(root, rendered)
    # the replaced output is kept as it was, for the build after
    assert inodes(root / ".output.prev") == before


def test_a_changed_copy_in_the_output_before_last_is_not_carried(tmp_path: Path) -> None:
    """A report folder of the kept output whose files are not the current
    output's (edited, added to) is linked again from the current output."""
    root = example_project(tmp_path / "p", "html, txt, md")
    run(root, "output")
    edit_other_text(root)
    run(root, "output")
    kept = root / ".output.prev" / "firecracker-aa"
    (kept / "report.txt").unlink()
    (kept / "report.txt").write_text("not the report\n")
    (kept / "charts" / "extra.svg").write_text("<svg/>")
    current = files(root / "output")
    edit_text(root)
    assert run(root, "output").rendered == ["bhyve-smp"]
    now = files(root / "output")
    assert {k: v for k, v in now.items() if k.startswith("firecracker-aa/")} == {
        k: v for k, v in current.items() if k.startswith("firecracker-aa/")}
    assert now["firecracker-aa/report.txt"] != b"not the report\n"


def test_a_symlink_in_place_of_the_output_before_last_is_left_alone(tmp_path: Path) -> None:
    root = example_project(tmp_path / "p", "html, txt, md")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "bhyve-smp").mkdir(parents=True)
    (elsewhere / "bhyve-smp" / "keep.txt").write_text("mine\n")
    run(root, "output")
    (root / ".output.prev").symlink_to(elsewhere)
    edit_text(root)
    assert run(root, "output").rendered == ["bhyve-smp"]
    assert (elsewhere / "bhyve-smp" / "keep.txt").read_text() == "mine\n"
    assert (root / ".output.prev").is_symlink()
    assert b"One more." in (root / "output" / "bhyve-smp" / "report.txt").read_bytes()
    assert not list(root.glob(".output.new-*"))


def test_a_folder_of_the_users_named_like_the_output_before_last_is_left_alone(
        tmp_path: Path) -> None:
    """Only a former output (it has the manifest) is used and emptied."""
    root = example_project(tmp_path / "p", "html, txt, md")
    run(root, "output")
    (root / ".output.prev" / "bhyve-smp").mkdir(parents=True)
    (root / ".output.prev" / "bhyve-smp" / "notes.txt").write_text("mine\n")
    edit_text(root)
    assert run(root, "output").rendered == ["bhyve-smp"]
    assert (root / ".output.prev" / "bhyve-smp" / "notes.txt").read_text() == "mine\n"
    assert not list(root.glob(".output.new-*"))
