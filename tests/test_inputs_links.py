"""Where links lead: the files a build fingerprints for a report
(cache.report_files and inputs_key) never include one a link leads to out of
the report directory, and do include one a link leads to inside it; report
directories linked out of the project are refused, and an output reached
through a link is still seen for what it is.  Each of these resolves paths
with core.paths.Below, which resolves exactly as Path.resolve() does."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from reportgen.core.errors import InputError
from reportgen.core.paths import Below, plain_parts
from reportgen.read import site_yml
from reportgen.read.report_yml import default_results
from reportgen.site import cache, output
from tests.golden import cwd


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    """A report directory ``r`` with results/a.json, and a directory outside it."""
    report, outside = tmp_path / "r", tmp_path / "outside"
    (report / "results").mkdir(parents=True)
    (report / "results" / "a.json").write_bytes(b"A")
    (outside / "results").mkdir(parents=True)
    (outside / "results" / "x.json").write_bytes(b"X")
    (outside / "secret.json").write_bytes(b"S")
    return report, outside


def digest(*files: tuple[str, bytes]) -> str:
    """inputs_key's fingerprint, worked out by hand: sha256 over each file's
    name, NUL, bytes, NUL, the files in the order given."""
    return hashlib.sha256(b"".join(n.encode() + b"\0" + c + b"\0" for n, c in files)).hexdigest()


def test_a_results_file_linked_out_of_the_report_is_left_out(places: tuple[Path, Path]) -> None:
    report, outside = places
    yml = b"results: [results/a.json, results/s.json]\n"
    (report / "report.yml").write_bytes(yml)
    (report / "results" / "s.json").symlink_to(outside / "secret.json")
    assert cache.report_files(report) == [report / "report.yml", report / "results" / "a.json"]
    before = cache.inputs_key(report)
    assert before == digest(("report.yml", yml), ("results/a.json", b"A"))
    (outside / "secret.json").write_bytes(b"changed")
    assert cache.inputs_key(report) == before


def test_a_results_directory_linked_out_of_the_report_is_not_listed(
        places: tuple[Path, Path]) -> None:
    report, outside = places
    (report / "report.yml").write_bytes(b"title: t\n")  # no results: results/*.json
    (report / "results" / "a.json").unlink()
    (report / "results").rmdir()
    (report / "results").symlink_to(outside / "results")
    assert default_results(report) is None
    assert cache.report_files(report) == [report / "report.yml"]
    assert cache.inputs_key(report) == digest(("report.yml", b"title: t\n"))


def test_a_listed_file_under_a_directory_linked_out_is_left_out(
        places: tuple[Path, Path]) -> None:
    report, outside = places
    (report / "report.yml").write_bytes(b"results: [results/a.json, more/x.json]\n")
    (report / "more").symlink_to(outside / "results")
    assert cache.report_files(report) == [report / "report.yml", report / "results" / "a.json"]


def test_a_report_yml_linked_out_leaves_nothing_to_read(places: tuple[Path, Path]) -> None:
    report, outside = places
    (outside / "report.yml").write_bytes(b"results: [results/a.json]\n")
    (report / "report.yml").symlink_to(outside / "report.yml")
    assert cache.report_files(report) == []


def test_links_inside_the_report_are_followed(places: tuple[Path, Path]) -> None:
    report, _outside = places
    (report / "report.yml").write_bytes(b"title: t\n")
    (report / "results").rename(report / "runs")
    (report / "results").symlink_to("runs")  # results/ -> runs/, inside
    (report / "runs" / "b.json").symlink_to("a.json")
    assert cache.report_files(report) == [report / "report.yml", report / "results" / "a.json",
                                          report / "results" / "b.json"]
    assert cache.inputs_key(report) == digest(("report.yml", b"title: t\n"),
                                              ("results/a.json", b"A"), ("results/b.json", b"A"))


def test_files_are_fingerprinted_in_pathlib_order(places: tuple[Path, Path]) -> None:
    """By component: results/a/b.json before results/a-b.json, though '-' sorts
    before '/' as text."""
    report, _outside = places
    (report / "results" / "a").mkdir()
    (report / "results" / "a" / "b.json").write_bytes(b"1")
    (report / "results" / "a-b.json").write_bytes(b"2")
    yml = b"results: [results/a-b.json, results/./a/b.json, results/gone.json]\n"
    (report / "report.yml").write_bytes(yml)
    assert cache.inputs_key(report) == digest(("report.yml", yml), ("results/a/b.json", b"1"),
                                              ("results/a-b.json", b"2"))


def test_below_resolves_as_path_resolve(places: tuple[Path, Path]) -> None:
    report, outside = places
    (report / "out").symlink_to(outside)
    (report / "in").symlink_to("results")
    (report / "loop").symlink_to("loop2")
    (report / "loop2").symlink_to("loop")
    alias = report.parent / "alias"
    alias.symlink_to(report)
    for base in (report, alias):
        below = Below(base)
        for name in ("results/a.json", "results", "in/a.json", "out/secret.json",
                     "out/../r/results/a.json", "results/a.json/x", "missing/x.json",
                     "./results//a.json", str(outside / "secret.json"), "..", "."):
            path = base / name
            assert below.resolve(path) == path.resolve(), (base, name)
            inside = path.resolve().is_relative_to(base.resolve())
            assert below.inside(name) == (inside, inside and path.is_file()), (base, name)
    assert Below(report).inside("out/secret.json") == (False, False)
    assert Below(report).inside("in/a.json") == (True, True)
    with pytest.raises(RuntimeError):  # a loop, as resolve() says
        Below(report).resolve(report / "loop")


def test_plain_parts() -> None:
    assert plain_parts("results/./a.json") == ["results", "a.json"]
    assert plain_parts("results//a.json") == ["results", "a.json"]
    assert plain_parts("results/../a.json") is None
    assert plain_parts("/etc/passwd") is None
    assert plain_parts(".") is None
    assert plain_parts("") is None


def test_below_lstats_once_per_component(places: tuple[Path, Path],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    report, _outside = places
    (report / "results" / "b.json").write_bytes(b"B")
    seen: list[str] = []
    real_lstat = os.lstat

    def lstat(path: str) -> os.stat_result:
        seen.append(os.fspath(path))
        return real_lstat(path)

    monkeypatch.setattr(os, "lstat", lstat)
    below = Below(report)
    assert below.inside("results/a.json") == (True, True)
    assert below.inside("results/b.json") == (True, True)
    assert below.inside("results") == (True, False)
    assert seen == [str(report / "results"), str(report / "results" / "a.json"),
                    str(report / "results" / "b.json")]


def site_project(tmp_path: Path) -> Path:
    """A project whose reports/ holds r (a directory), in (a link to a
    directory inside the project) and out (a link to one outside)."""
    root = tmp_path / "p"
    (root / "reports" / "r").mkdir(parents=True)
    (root / "kept" / "k").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "reports" / "in").symlink_to(root / "kept" / "k")
    (root / "site.yml").write_text("reports: [reports/r, reports/in, reports/r]\n")
    return root


def test_a_report_dir_linked_inside_the_project_is_read(tmp_path: Path) -> None:
    root = site_project(tmp_path)
    site = site_yml.load_site(root / "site.yml")
    assert site.report_dirs == (root / "reports" / "r", root / "reports" / "in")


def test_a_report_dir_linked_out_of_the_project_is_refused(tmp_path: Path) -> None:
    root = site_project(tmp_path)
    (root / "reports" / "out").symlink_to(tmp_path / "elsewhere")
    (root / "site.yml").write_text("reports: [reports/*]\n")
    with cwd(root), pytest.raises(InputError) as caught:
        site_yml.load_site(Path("site.yml"))
    assert [p.message for p in caught.value.problems] == [
        "'reports/out' is a link to a directory outside the project; refusing to read it"]


def test_an_output_reached_through_a_link_to_a_report_dir_is_refused(tmp_path: Path) -> None:
    root = site_project(tmp_path)
    site = site_yml.load_site(root / "site.yml")
    with pytest.raises(InputError) as caught:  # kept/k is the report reports/in
        output.check_output_dir((root / "kept" / "k").resolve(), site, root / "site.yml")
    assert caught.value.problems[0].message.endswith(
        "it holds report directories, or lies inside one")
    output.check_output_dir(root / "output", site, root / "site.yml")  # refuses nothing
