"""The PDF and the archive through `reportgen build` on copies of the example report."""

from __future__ import annotations

import fcntl
import hashlib
import io
import math
import multiprocessing
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.core.errors import BuildError, ReportgenError
from reportgen.site import build
from reportgen.site.archive import snapshots

EXAMPLE = Path(__file__).resolve().parent.parent / "reports" / "bhyve-smp"
SLUG = "bhyve-smp"


def make_project(root: Path, archive: str | None = None) -> Path:
    shutil.copytree(EXAMPLE, root / "reports" / SLUG)
    site = "title: Test site\nreports: [reports/*]\nformats: [html, pdf]\noutput: output\n"
    if archive:
        site += f"archive: {archive}\n"
    (root / "site.yml").write_text(site)
    return root


def run(project: Path) -> build.Result:
    return build.build(project / "site.yml", log=lambda message: None)


def edit_report(project: Path, old: str, new: str) -> None:
    path = project / "reports" / SLUG / "report.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("built"))
    run(project)
    return project


@pytest.fixture(scope="module")
def reader(built: Path) -> PdfReader:
    return PdfReader(built / "output" / SLUG / "report.pdf")


def test_text_follows_the_seed_order(reader: PdfReader) -> None:
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    expected = [
        "FreeBSD guest on QEMU + bhyve with SMP", "System", "Analysis and notes",
        "1. CPU INTEGER +8%", "2. SYSCALL getpid() ~4x", "3. FORK()+WAIT ~66x",
        "4. MEMORY: dd /dev/zero same", "5. MEMORY: sysbench -36% write, -48% read",
        "6. DISK: write+fsync ~19x", "7. DISK: cached read guest faster",
        "Conclusions", "Workloads that run at native speed", "Workloads with a moderate cost",
        "Workloads with a severe cost", "Summary", "With SMP on",
    ]
    positions = [text.find(s) for s in expected]
    assert -1 not in positions, [s for s, p in zip(expected, positions) if p < 0]
    assert positions == sorted(positions)


def test_pdf_opens_with_the_computed_headline(built: Path, reader: PdfReader) -> None:
    from reportgen.analyse import headline
    from reportgen.analyse.analysis import analyse
    from reportgen.read import report_yml

    (h,) = analyse(report_yml.load_report(built / "reports" / SLUG).report).headline.envs
    text = " ".join(reader.pages[0].extract_text().split())
    worst = [f"{w.name} {w.words}" for w in h.worst]
    expected = ["Headline", f"{h.env} 3.02x 3.01x to 3.02x {headline.counts_text(h)}", *worst,
                "System"]
    positions = [text.find(s) for s in expected]
    assert -1 not in positions, [s for s, p in zip(expected, positions) if p < 0]
    assert positions == sorted(positions)


def test_outline_has_one_entry_per_numbered_section(reader: PdfReader) -> None:
    titles = []
    for item in reader.outline:
        for entry in item if isinstance(item, list) else [item]:
            titles.append(entry.title)
    numbered = [t for t in titles if re.match(r"\d+\. ", t)]
    assert [t.split(" ")[0] for t in numbered] == [f"{n}." for n in range(1, 8)]
    assert {"Analysis and notes", "Conclusions", "Summary"} <= set(titles)


def test_metadata_and_attachments(reader: PdfReader) -> None:
    info = reader.metadata
    assert info is not None
    assert info["/Title"] == "FreeBSD guest on QEMU + bhyve with SMP: cost against the host"
    assert info["/Author"] == "reportgen example"
    assert info["/CreationDate"].startswith("D:20260609")
    assert "bhyve" in info["/Keywords"]
    assert sorted(reader.attachments) == ["report.yml", "results/guest.json",
                                          "results/native.json"]
    inputs = EXAMPLE / "results" / "guest.json"
    assert reader.attachments["results/guest.json"] == [inputs.read_bytes()]


def test_page_links_the_pdf_and_its_snapshots(built: Path) -> None:
    page = (built / "output" / SLUG / "index.html").read_text()
    assert 'href="report.pdf"' in page
    (snap,) = snapshots(built / "output" / "archive", SLUG)
    assert f'href="../archive/{SLUG}/{snap.file}"' in page


def test_two_clean_builds_give_identical_pdfs(built: Path, tmp_path: Path) -> None:
    other = make_project(tmp_path)
    run(other)
    assert sha(other / "output" / SLUG / "report.pdf") == sha(built / "output" / SLUG / "report.pdf")


@pytest.mark.parametrize("reference", [
    "file:///etc/passwd", "/dev/urandom", "http://example.com/chart.png", "charts/missing.svg",
])
def test_a_refused_reference_in_the_analysis_fails_the_build(
        tmp_path: Path, reference: str) -> None:
    # The loader refuses most of these with file:line:col; whatever gets past it
    # (a chart name that does not exist) is refused by the PDF's URL fetcher.
    project = make_project(tmp_path)
    edit_report(project, "hypervisor is not involved",
                f"![chart]({reference}) hypervisor is not involved")
    with pytest.raises(ReportgenError) as caught:
        run(project)
    message = str(caught.value)
    assert reference in message or f"'{reference.split(':')[0]}:'" in message
    assert "report.yml:" in message or message.startswith(f"report {SLUG}: cannot use '")
    assert not (project / "output").exists()  # nothing published, no PDF
    assert not list(project.glob("**/*.pdf"))
    assert not multiprocessing.active_children()  # the renderer started ahead is stopped


def test_a_missing_chart_is_named_by_the_pdf_step(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    edit_report(project, "hypervisor is not involved",
                "![chart](charts/missing.svg) hypervisor is not involved")
    with pytest.raises(BuildError, match=rf"^report {SLUG}: cannot use '.*charts/missing.svg': "
                                          "no such file in the build"):
        run(project)


def test_snapshots_survive_rebuilds_cleans_and_failures(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    archive = project / "output" / "archive"
    run(project)
    (first,) = snapshots(archive, SLUG)
    first_bytes = (archive / SLUG / first.file).read_bytes()
    assert first_bytes == (project / "output" / SLUG / "report.pdf").read_bytes()

    run(project)  # same inputs: same PDF, no new snapshot; output/ was replaced
    assert snapshots(archive, SLUG) == [first]

    edit_report(project, "With SMP on,", "With SMP enabled,")
    run(project)
    second, again = snapshots(archive, SLUG)
    assert again == first and second != first
    assert (archive / SLUG / first.file).read_bytes() == first_bytes
    assert sha(project / "output" / SLUG / "report.pdf") == second.sha256
    page = (project / "output" / SLUG / "index.html").read_text()
    assert first.file in page and second.file in page

    edit_report(project, "hypervisor is not involved", "![x](charts/missing.svg)")
    with pytest.raises(BuildError):
        run(project)
    assert snapshots(archive, SLUG) == [second, first]
    assert (archive / SLUG / first.file).read_bytes() == first_bytes
    assert sha(project / "output" / SLUG / "report.pdf") == second.sha256  # old output whole


def test_an_archive_outside_output_survives_removing_output(tmp_path: Path) -> None:
    project = make_project(tmp_path, archive="archive")
    run(project)
    (first,) = snapshots(project / "archive", SLUG)
    shutil.rmtree(project / "output")
    edit_report(project, "With SMP on,", "With SMP enabled,")
    run(project)
    second, again = snapshots(project / "archive", SLUG)
    assert again == first
    assert {p.name for p in (project / "archive" / SLUG).glob("*.pdf")} == {first.file,
                                                                            second.file}
    assert (project / "archive" / SLUG / first.file).stat().st_size == first.size


def test_html_only_build_writes_no_pdf(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    build.build(project / "site.yml", formats=("html",), log=lambda message: None)
    assert (project / "output" / SLUG / "index.html").exists()
    assert not (project / "output" / SLUG / "report.pdf").exists()
    assert not (project / "output" / "archive").exists()


def test_pdf_text_is_extractable_with_pypdf_from_bytes(built: Path) -> None:
    data = (built / "output" / SLUG / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-1.7")
    assert PdfReader(io.BytesIO(data)).pages


def poppler(tool: str, *args: str) -> str:
    """The output of one of poppler-utils' tools (skipped without them, failed under CI)."""
    import os
    import subprocess

    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have {tool} (poppler-utils)")
        pytest.skip(f"{tool} is not installed (apt-get install poppler-utils)")
    return subprocess.run([path, *args], check=True, capture_output=True, text=True).stdout


def test_poppler_sees_tags_embedded_fonts_and_each_input_once(built: Path) -> None:
    pdf = str(built / "output" / SLUG / "report.pdf")
    assert re.search(r"^Tagged:\s+yes$", poppler("pdfinfo", pdf), re.MULTILINE)
    fonts = poppler("pdffonts", pdf).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the emb column
    listed = [line.split(": ", 1)[1] for line in poppler("pdfdetach", "-list", pdf).splitlines()[1:]]
    assert sorted(listed) == ["report.yml", "results/guest.json", "results/native.json"]


def test_chart_text_is_text_in_the_pdf(reader: PdfReader) -> None:
    text = "".join(page.extract_text() for page in reader.pages)
    assert "samples, a line per round" in text
    assert "moderate from 1.15x" in text


def test_chart_text_is_no_larger_than_the_body_text(reader: PdfReader) -> None:
    """Charts are shown no wider than drawn: their 10 pt text is the body's size
    at most (smaller where a chart is shrunk to fit its page)."""
    sizes: dict[str, list[float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], _font: object,
              size: float) -> None:
        for known in ("samples, a line per round", "Each system call costs"):
            if text.strip().startswith(known):
                sizes.setdefault(known, []).append(
                    size * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1]))

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    body = sizes["Each system call costs"]
    assert body == [pytest.approx(10.0, abs=0.01)]
    charts = sizes["samples, a line per round"]
    assert len(charts) == 7 and max(charts) <= body[0] + 0.01


def _figure_alts(node: object) -> list[str]:
    """The /Alt of every /Figure element under a structure tree node."""
    from pypdf.generic import ArrayObject, DictionaryObject

    node = getattr(node, "get_object", lambda: node)()
    if isinstance(node, ArrayObject):
        return [alt for child in node for alt in _figure_alts(child)]
    if not isinstance(node, DictionaryObject):
        return []
    own = [str(node["/Alt"])] if node.get("/S") == "/Figure" and "/Alt" in node else []
    return own + (_figure_alts(node["/K"]) if "/K" in node else [])


def test_every_chart_is_a_tagged_figure_with_its_alt_text(built: Path, reader: PdfReader) -> None:
    charts = sorted((built / "output" / SLUG / "charts").glob("*.svg"))
    alts = _figure_alts(reader.trailer["/Root"]["/StructTreeRoot"])
    assert len(alts) == len(charts)
    assert alts[-1].startswith("Chart of the slowdown against native per metric")
    assert all(alt.startswith("Chart of every sample") for alt in alts[:-1])


def test_captions_stay_with_their_tables_and_the_colophon_is_not_alone(
        reader: PdfReader) -> None:
    caption = "Medians per environment; slowdown against native"
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    for number, text in enumerate(pages, 1):
        for found in re.finditer(re.escape(caption), text):
            assert "Environment Median Samples" in text[found.end():], f"page {number}"
    last = pages[-1]
    assert "Made with reportgen" in last
    assert len(last.split("Made with reportgen")[0].split()) > 40  # more than a running head


def test_pdf_builds_leave_no_temporary_files(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # WeasyPrint copies every @font-face file into a temporary folder; a
    # renderer's folders must go with it, alone or in a pool, guessed or not.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    # The folders of a build killed with SIGKILL (unlocked) and of one running (locked).
    killed, running = tmp / "reportgen-pdf-killed", tmp / "reportgen-pdf-running"
    for folder in (killed, running):
        (folder / "weasyprint-x").mkdir(parents=True)
        (folder / ".lock").touch()
    with (running / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        project = make_project(tmp_path / "p")
        shutil.copytree(project / "reports" / SLUG, project / "reports" / "second")
        run(project)  # two reports: each in a pool worker
        edit_report(project, "With SMP on,", "With SMP enabled,")
        assert run(project).rendered == [SLUG]  # one: in this process, with the fits as a guess
    # pymp-*: multiprocessing's own folder of this test process, removed when it exits
    assert [p.name for p in tmp.iterdir() if not p.name.startswith("pymp-")] == [running.name]
