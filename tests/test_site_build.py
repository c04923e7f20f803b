"""Site builds: atomic swap, removed reports, dangerous output dirs,
incremental rebuilds and the link check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.core.errors import InputError
from reportgen.render import text as render_text
from reportgen.site import build, linkcheck
from reportgen.site.linkcheck import check
from tests.golden import ERRORS, cwd, lay_out, run_build

SITE = "title: T\nreports: [reports/*]\nformats: [{formats}]\n"


def project(tmp_path: Path, formats: str = "html, txt, md", reports: int = 2) -> Path:
    root = lay_out(ERRORS / "_base", tmp_path / "project")
    for n in range(1, reports):
        shutil.copytree(root / "reports" / "r", root / "reports" / f"r{n}")
    (root / "site.yml").write_text(SITE.format(formats=formats))
    return root


def run(root: Path, *args: str) -> build.Result:
    with cwd(root):
        return build.build(Path("site.yml"), log=lambda _m: None, **dict(args))  # type: ignore[arg-type]


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_failure_inside_a_renderer_leaves_previous_output_identical(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    run(root)
    before = files(root / "output")
    (root / "reports" / "r" / "report.yml").write_text(
        (root / "reports" / "r" / "report.yml").read_text().replace("Done.", "Changed."))

    def crash(*_args: object) -> str:
        raise RuntimeError("renderer died midway")

    monkeypatch.setattr(render_text, "render", crash)
    with pytest.raises(RuntimeError, match="renderer died midway"):
        run(root)
    assert files(root / "output") == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".output.new")] == []


def test_removed_report_disappears(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    assert (root / "output" / "r1" / "report.txt").exists()
    shutil.rmtree(root / "reports" / "r1")
    result = run(root)
    assert result.rendered == []  # r is unchanged; only the index is new
    assert not (root / "output" / "r1").exists()
    assert "r1/" not in (root / "output" / "index.html").read_text()


@pytest.mark.parametrize("output", [".", "..", "reports/..", "reports"])
def test_dangerous_output_dirs_are_refused(tmp_path: Path, output: str) -> None:
    root = project(tmp_path)
    before = files(root)
    with cwd(root), pytest.raises(InputError) as caught:
        build.build(Path("site.yml"), output_dir=Path(output), log=lambda _m: None)
    assert str(caught.value).startswith("site.yml:1:1: refusing output directory ")
    assert files(root) == before


def test_output_dir_holding_a_site_file_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "site.yml").write_text("reports: []\n")
    status, stderr = run_build_with(root, "-o", "elsewhere")
    assert status == 2
    assert stderr.endswith("it holds a site.yml or reports/: it looks like a project, "
                           "not build output\n")


def run_build_with(root: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "reportgen", "build", *args], cwd=root,
                          capture_output=True, text=True, check=False)
    return done.returncode, done.stderr


def test_noop_rebuild_renders_nothing_and_imports_no_renderer(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    before = {p: p.stat().st_mtime_ns for p in (root / "output").rglob("*")}
    probe = ("import sys; from pathlib import Path; from reportgen.site.build import build; "
             "r = build(Path('site.yml')); "
             "print(r.rendered, sorted(m for m in ('matplotlib', 'weasyprint', 'jinja2', "
             "'jsonschema', 'markdown_it') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True,
                          text=True, check=True)
    assert done.stdout == "[] []\n"
    # the warnings still hold (one-round results), so they are said again
    *warnings, last = done.stderr.splitlines()
    assert last == "nothing changed: output is up to date"
    assert warnings and all(": warning: " in line for line in warnings)
    assert {p: p.stat().st_mtime_ns for p in (root / "output").rglob("*")} == before


def test_edit_renders_only_that_report_and_keeps_its_charts(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    chart = root / "output" / "r" / "charts" / "s1.svg"
    other = root / "output" / "r1" / "report.txt"
    inodes = chart.stat().st_ino, other.stat().st_ino
    report = root / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace("Done.", "Finished."))
    result = run(root)
    assert result.rendered == ["r"]
    assert "Finished." in (root / "output" / "r" / "report.txt").read_text()
    # Same inodes: the chart and the untouched report were linked, not written again.
    assert (chart.stat().st_ino, other.stat().st_ino) == inodes


SITE_PAGES = ("index.html", "404.html", "sitemap.xml", "feed.xml")


def site_pages(root: Path) -> dict[str, tuple[int, bytes]]:
    return {name: ((root / "output" / name).stat().st_ino,
                   (root / "output" / name).read_bytes()) for name in SITE_PAGES}


def test_prose_edit_keeps_the_site_pages_and_a_title_edit_makes_them_again(
        tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "site.yml").write_text(SITE.format(formats="html, txt, md")
                                   + "base_url: https://bench.example.org/\n")
    run(root)
    before = site_pages(root)
    report = root / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace("Done.", "Finished."))
    assert run(root).rendered == ["r"]
    # No card changed: the very files of the previous output (same inodes).
    assert site_pages(root) == before
    report.write_text(report.read_text().replace("title: Test report", "title: Renamed"))
    assert run(root).rendered == ["r"]
    after = site_pages(root)
    for name in SITE_PAGES:
        assert after[name][0] != before[name][0], name  # written again
    assert "Renamed" in after["index.html"][1].decode()
    assert b"Renamed" in after["feed.xml"][1]
    assert "Renamed" not in before["index.html"][1].decode()


def test_link_check_resolves_the_links_of_carried_pages_again(tmp_path: Path) -> None:
    root = project(tmp_path, reports=3)
    first = root / "reports" / "r1" / "report.yml"
    first.write_text(first.read_text().replace("Done.", "Next: [r2](../r2/index.html)."))
    assert [w for w in run(root).warnings if "broken link" in str(w)] == []
    page = (root / "output" / "r1" / "index.html").read_text().splitlines()
    line = next(n for n, text in enumerate(page, 1) if 'href="../r2/index.html"' in text)
    col = page[line - 1].index('<a href="../r2/') + 1
    # r1 is carried over, its page not read again: its link now leads nowhere.
    shutil.rmtree(root / "reports" / "r2")
    result = run(root)
    assert result.rendered == []
    assert [str(w) for w in result.warnings if "broken link" in str(w)] == [
        f"r1/index.html:{line}:{col}: warning: broken link '../r2/index.html': no such file"]
    # An edited report's link to an anchor the carried page lacks.
    report = root / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace("Done.", "See [r1](../r1/index.html#gone)."))
    result = run(root)
    assert result.rendered == ["r"]
    assert sorted(str(w).split(": ", 1)[1] for w in result.warnings
                  if "broken link" in str(w)) == [
        "warning: broken link '../r1/index.html#gone': no anchor '#gone' in index.html",
        "warning: broken link '../r2/index.html': no such file"]


def test_changed_data_redraws_charts(tmp_path: Path) -> None:
    root = project(tmp_path, reports=1)
    run(root)
    chart = root / "output" / "r" / "charts" / "s1.svg"
    old = chart.read_bytes()
    guest = root / "reports" / "r" / "results" / "guest.json"
    guest.write_text(guest.read_text().replace("182.0", "190.0"))
    assert run(root).rendered == ["r"]
    assert chart.read_bytes() != old


def test_link_checker_catches_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<p id="top"><a href="a/page.html#s1">ok</a>\n<a href="a/page.html#s9">bad</a>'
        '<a href="#top">self</a><a href="https://example.org/">web</a></p>')
    (tmp_path / "a" / "page.html").write_text('<h3 id="s1">x</h3><img src="missing.svg">')
    assert [str(p) for p in check(tmp_path)] == [
        "a/page.html:1:19: warning: broken link 'missing.svg': no such file",
        "index.html:2:1: warning: broken link 'a/page.html#s9': no anchor '#s9' in page.html",
    ]


def test_link_checker_resolves_every_kind_of_link(tmp_path: Path) -> None:
    site, outside = tmp_path / "site", tmp_path / "archive"
    (site / "a").mkdir(parents=True)
    (site / "b").mkdir()
    outside.mkdir()
    (site / "b" / "index.html").write_text('<h2 id="x">b</h2>')
    (site / "b" / "data.json").write_text("{}")
    (outside / "r.pdf").write_bytes(b"%PDF")
    lines = ['<a href="../b/">dir</a><a href="../b#x">anchor</a><a href="../b/#y">bad</a>',
             ('<a href="../b/data.json#z">data</a><a href="../../archive/r.pdf">pdf</a>'
              '<a href="../../elsewhere.html">out</a>'),
             ('<a href="/b/">abs</a><a href="ftp://x/">ftp</a><a href="mailto:a@b.org">mail</a>'
              '<a href="b/">missing</a>')]
    (site / "a" / "index.html").write_text("\n".join(lines))
    (site / "index.html").write_text('<a href="%62/index.html#x">quoted</a>'
                                     '<a href="b/index.html#y">bad</a><a href="a/">a</a>')

    def at(line: int, url: str) -> str:
        col = lines[line - 1].index('<a href="' + url + '"') + 1
        return f"a/index.html:{line}:{col}"

    assert [str(p) for p in check(site, (outside,))] == [
        f"{at(1, '../b/#y')}: warning: broken link '../b/#y': no anchor '#y' in index.html",
        (f"{at(2, '../../elsewhere.html')}: warning: broken link '../../elsewhere.html': "
         "points outside the site"),
        ("a/index.html:3:1: warning: broken link '/b/': absolute paths break when the site is "
         "opened from a folder"),
        f"{at(3, 'ftp://x/')}: warning: broken link 'ftp://x/': not a link within the site",
        f"{at(3, 'b/')}: warning: broken link 'b/': no such file",
        "index.html:1:38: warning: broken link 'b/index.html#y': no anchor '#y' in index.html",
    ]


def test_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    root = project(tmp_path, reports=1)
    report = root / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace("Done.", "See [above](#nowhere)."))
    status, stderr = run_build_with(root, "--strict")
    assert status == 2
    error = stderr.splitlines()[-1]
    assert error.endswith(":8: broken link '#nowhere': no anchor '#nowhere' in index.html")
    assert not (root / "output").exists()
    assert run_build(root)[0] == 0  # without --strict it is a warning
    lines = (root / "output" / "r" / "index.html").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if 'href="#nowhere"' in text)
    assert error.startswith(f"r/index.html:{line}:8: ")


def test_archive_override_keeps_snapshots_out_of_the_site_archive(tmp_path: Path) -> None:
    root = project(tmp_path, formats="pdf", reports=1)
    preview = tmp_path / "preview"
    with cwd(root):
        build.build(Path("site.yml"), output_dir=preview, archive_dir=preview / "archive",
                    log=lambda _m: None)
    assert len(list((preview / "archive" / "r").glob("r-2026-01-02-*.pdf"))) == 1
    assert not (root / "output").exists()


def test_markdown_links_charts_under_base_url_relative_without(tmp_path: Path) -> None:
    root = project(tmp_path, formats="html, md", reports=1)
    run(root)
    assert "](charts/s1.svg)" in (root / "output" / "r" / "report.md").read_text()
    (root / "site.yml").write_text(SITE.format(formats="html, md")
                                   + "base_url: https://bench.example.org/site\n")
    run(root)
    md = (root / "output" / "r" / "report.md").read_text()
    assert "](https://bench.example.org/site/r/charts/s1.svg)" in md
    assert "](charts/" not in md


def test_carried_over_charts_are_still_inlined_in_the_page(tmp_path: Path) -> None:
    root = project(tmp_path, formats="html", reports=1)
    run(root)
    first = (root / "output" / "r" / "index.html").read_text()
    report = root / "reports" / "r" / "report.yml"
    report.write_text(report.read_text().replace("Done.", "Finished."))
    run(root)
    page = (root / "output" / "r" / "index.html").read_text()
    assert "Finished." in page and page.count("<svg") == first.count("<svg") > 0
    assert (root / "output" / "fonts" / "DejaVuSans.ttf").exists()


def test_a_pages_ids_are_stored_as_one_string_unless_one_cannot_be_joined() -> None:
    page = linkcheck.Page(links=[("#b", 3, 4)])
    page.ids.update({"b", "a"})
    assert page.to_json() == {"ids": "a\nb", "links": [["#b", 3, 4]]}
    assert linkcheck.Page.from_json({"ids": "a\nb", "links": []}).ids == {"a", "b"}
    assert linkcheck.Page.from_json({"ids": "", "links": []}).ids == set()
    odd = linkcheck.Page()
    odd.ids.update({"x\ny", ""})
    assert odd.to_json()["ids"] == ["", "x\ny"]
    assert linkcheck.Page.from_json(odd.to_json()).ids == {"x\ny", ""}
    # a manifest written before ids were joined
    assert linkcheck.Page.from_json({"ids": ["a", "b"], "links": []}).ids == {"a", "b"}
    stored = linkcheck.Page.from_json({"ids": "ab\nb\nc-d", "links": []})
    assert [stored.has(i) for i in ("b", "ab", "a", "c", "c-d", "")] == [
        True, True, False, False, True, False]
    assert stored._ids is None  # looked up in the string, not unpacked
    assert not stored.has("b\nc-d")
