"""render_pdf on small pages of the report page's shape: content, metadata, safety."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.core.errors import BuildError
from reportgen.render.pdf import Attachment, PdfMeta, render_pdf, source_date

META = PdfMeta(title="Guest against host", author="A. Author", subject="guest vs. native",
               keywords=("bhyve", "FreeBSD"), lang="en", date=dt.date(2026, 6, 9))
FILES = (Attachment("report.yml", b"title: Guest against host\n"),
         Attachment("results/guest.json", b'{"format": "reportgen-results/1"}\n'),
         Attachment("results/native.json", b'{"format": "reportgen-results/1"}\n'))
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120" viewBox="0 0 400 120">'
       b'<rect x="10" y="10" width="300" height="40" fill="#b3261e"/>'
       b'<rect x="10" y="60" width="80" height="40" fill="#7b8494"/></svg>')


def page(body_extra: str = "", head_extra: str = "", sections: int = 3) -> str:
    parts = []
    for n in range(1, sections + 1):
        parts.append(
            f'<section class="workload"><h3 id="s{n}"><span class="number">{n}.</span> Workload {n}'
            f' <span class="badge tier-moderate">~{n}x</span></h3>'
            f'<p>{"Text of the analysis. " * 40}</p>'
            '<table class="results"><thead><tr><th>Environment</th><th class="num">Median</th>'
            '</tr></thead><tbody><tr><td>native</td><td class="num">46 ns</td></tr>'
            '<tr><td>guest</td><td class="num">182 ns</td></tr></tbody></table>'
            f'<figure class="chart"><img src="charts/s{n}.svg" alt="chart {n}"></figure></section>')
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Guest against host'
            f'</title><link rel="stylesheet" href="../style.css">{head_extra}</head><body>'
            '<nav class="site-nav"><a href="../index.html">All reports</a></nav>'
            '<article class="report"><header class="title-block"><h1>Guest against host</h1>'
            '<p class="byline">2026-06-09 · A. Author</p></header>'
            '<section><h2>Analysis and notes</h2>' + "".join(parts) + '</section>'
            '<section><h2>Conclusions</h2><p>Negligible, moderate, severe.</p></section>'
            f'<section><h2>Summary</h2><p>All said.</p>{body_extra}</section>'
            '</article></body></html>')


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A staging output root with style.css and one report dir holding its charts."""
    root = tmp_path_factory.mktemp("stage")
    (root / "style.css").write_text("body { font-family: sans-serif; } .badge { color: #a35f00; }")
    charts = root / "demo" / "charts"
    charts.mkdir(parents=True)
    for n in range(1, 4):
        (charts / f"s{n}.svg").write_bytes(SVG)
    (charts / "broken.svg").write_bytes(b"<svg this is not xml")
    return root / "demo"


def render(stage: Path, html: str, **kwargs: object) -> bytes:
    options: dict[str, object] = {"report": "demo", "meta": META, "attachments": FILES}
    options.update(kwargs)
    return render_pdf(html, stage, **options).content  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pdf(stage: Path) -> bytes:
    return render(stage, page())


@pytest.fixture(scope="module")
def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(reader: PdfReader) -> str:
    return "\n".join(p.extract_text() for p in reader.pages)


def test_text_has_title_sections_badges_in_order(reader: PdfReader) -> None:
    text = text_of(reader)
    order = ["Guest against host", "Analysis and notes", "1. Workload 1", "~1x",
             "2. Workload 2", "~2x", "3. Workload 3", "~3x", "Conclusions", "Summary"]
    positions = [text.find(s) for s in order]
    assert -1 not in positions, list(zip(order, positions))
    assert positions == sorted(positions)
    assert "All reports" not in text  # navigation is for the screen only


def test_footer_says_page_n_of_m_and_header_repeats_title(reader: PdfReader) -> None:
    total = len(reader.pages)
    assert total >= 2
    for number, p in enumerate(reader.pages, 1):
        assert f"page {number} of {total}" in p.extract_text()
    # The running header is on every page but the first (the title block).
    assert reader.pages[1].extract_text().count("Guest against host") >= 1


def test_outline_has_parts_and_one_entry_per_numbered_section(reader: PdfReader) -> None:
    outline = reader.outline
    tops = [item.title for item in outline if not isinstance(item, list)]
    assert tops == ["Analysis and notes", "Conclusions", "Summary"]
    nested = next(item for item in outline if isinstance(item, list))
    assert [i.title for i in nested] == [f"{n}. Workload {n} ~{n}x" for n in range(1, 4)]


def test_metadata_comes_from_the_report_not_the_clock(reader: PdfReader) -> None:
    info = reader.metadata
    assert info is not None
    assert info["/Title"] == "Guest against host"
    assert info["/Author"] == "A. Author"
    assert info["/Subject"] == "guest vs. native"
    assert info["/Keywords"] == "bhyve, FreeBSD"
    assert info["/CreationDate"].startswith("D:20260609000000")
    assert info["/ModDate"].startswith("D:20260609000000")
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_is_pdf_a_3b_with_inputs_attached(reader: PdfReader) -> None:
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in xmp and b"3" in xmp
    assert sorted(reader.attachments) == ["report.yml", "results/guest.json",
                                          "results/native.json"]
    assert reader.attachments["report.yml"] == [FILES[0].content]
    associated = [f.get_object() for f in reader.trailer["/Root"]["/AF"]]
    assert sorted(str(f["/UF"]) for f in associated) == sorted(reader.attachments)  # each once
    for spec in associated:
        assert spec["/AFRelationship"] == "/Source"
        kind = "/application/yaml" if str(spec["/UF"]).endswith(".yml") else "/application/json"
        assert spec["/EF"]["/F"].get_object()["/Subtype"] == kind
        params = spec["/EF"]["/F"].get_object()["/Params"]
        # Attachments carry the report's date, not the time of the build.
        assert params["/CreationDate"] == params["/ModDate"] == "D:20260609000000Z"


def test_is_tagged(reader: PdfReader) -> None:
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == True
    assert "/StructTreeRoot" in root


def _fonts(reader: PdfReader) -> dict[str, object]:
    found: dict[str, object] = {}
    for p in reader.pages:
        fonts = p["/Resources"].get_object().get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descendant = descendant.get_object()
                found[str(descendant["/BaseFont"])] = descendant["/FontDescriptor"].get_object()
    return found


def test_every_font_is_embedded_and_shipped(reader: PdfReader) -> None:
    fonts = _fonts(reader)
    assert fonts
    for name, descriptor in fonts.items():
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), name  # type: ignore[operator]
        assert "Reportgen-" in name, f"{name} is not one of the fonts in templates/fonts/"


def test_charts_stay_vectors(pdf: bytes, reader: PdfReader) -> None:
    # SVG charts are drawn as PDF paths (forms), never as raster images.
    for p in reader.pages:
        assert not p.images


def test_two_renders_are_identical(stage: Path, pdf: bytes) -> None:
    again = render(stage, page())
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(pdf).hexdigest()


def test_date_changes_the_bytes_paper_changes_the_size(stage: Path, pdf: bytes) -> None:
    other = render(stage, page(), meta=PdfMeta(**{**META.__dict__, "date": dt.date(2026, 7, 1)}))
    assert other != pdf
    letter = PdfReader(io.BytesIO(render(stage, page(), paper="Letter")))
    box = letter.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    a4 = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)


def test_unknown_paper_is_refused(stage: Path) -> None:
    with pytest.raises(BuildError, match="report demo: unknown paper size 'B5'"):
        render(stage, page(), paper="B5")


@pytest.mark.parametrize(("reference", "why"), [
    ("file:///etc/passwd", "only the build's own files"),
    ("/dev/urandom", "only the build's own files"),
    ("../../../../../../etc/passwd", "only the build's own files"),
    ("http://example.com/chart.png", "http: resources are not allowed"),
    ("https://example.com/chart.svg", "https: resources are not allowed"),
    ("data:image/svg+xml;base64,PHN2Zy8+", "data: resources are not allowed"),
    ("charts/missing.svg", "no such file in the build"),
    ("charts", "not a regular file"),
])
def test_image_references_outside_the_build_fail(stage: Path, reference: str, why: str) -> None:
    html = page(f'<p><img src="{reference}" alt="x"></p>')
    with pytest.raises(BuildError) as caught:
        render(stage, html)
    message = str(caught.value)
    assert message.startswith("report demo: cannot use '")
    assert why in message
    tail = reference.lstrip("./").split("/")[-1] if not reference.startswith("data:") else "data:"
    assert tail in message


@pytest.mark.parametrize("head", [
    '<link rel="stylesheet" href="file:///etc/passwd">',
    '<link rel="stylesheet" href="http://example.com/x.css">',
    '<style>@import url("https://example.com/x.css");</style>',
    '<style>.byline { background-image: url("file:///etc/hostname"); }</style>',
    ('<style>@font-face { font-family: X; src: url("http://example.com/x.ttf"); }'
     ' body { font-family: X; }</style>'),
])
def test_stylesheet_references_outside_the_build_fail(stage: Path, head: str) -> None:
    with pytest.raises(BuildError, match=r"^report demo: cannot use '"):
        render(stage, page(head_extra=head))


def test_attachment_link_outside_the_build_fails(stage: Path) -> None:
    html = page('<a rel="attachment" href="file:///etc/passwd">x</a>')
    with pytest.raises(BuildError, match="cannot use 'file:///etc/passwd'"):
        render(stage, html)


def test_an_image_that_cannot_be_drawn_fails(stage: Path) -> None:
    with pytest.raises(BuildError, match="report demo: PDF rendering failed: .*broken.svg"):
        render(stage, page('<img src="charts/broken.svg" alt="x">'))


def test_a_link_to_the_web_is_kept_as_a_link_not_fetched(stage: Path) -> None:
    pdf = render(stage, page('<p><a href="https://example.com/">the project</a></p>'))
    links = [a.get_object()["/A"]["/URI"] for p in PdfReader(io.BytesIO(pdf)).pages
             for a in p.get("/Annots", [])]
    assert "https://example.com/" in links


def test_rendering_has_a_time_limit(stage: Path) -> None:
    with pytest.raises(BuildError, match=r"report demo: the PDF took longer than 0.001 s"):
        render(stage, page(sections=3), timeout=0.001)


def test_source_date_epoch_when_no_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1781049600")  # 2026-06-10T00:00:00Z
    assert source_date(None) == dt.date(2026, 6, 10)
    assert source_date(dt.date(2026, 6, 9)) == dt.date(2026, 6, 9)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(BuildError, match="SOURCE_DATE_EPOCH"):
        source_date(None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    with pytest.raises(BuildError, match="no date"):
        source_date(None)


def test_relative_links_are_dropped_not_turned_into_local_paths(stage: Path) -> None:
    pdf = render(stage, page('<p><a href="report.txt">text</a> <a href="#s2">section 2</a></p>'))
    reader = PdfReader(io.BytesIO(pdf))
    actions = [a.get_object().get("/A") for p in reader.pages for a in p.get("/Annots", [])]
    assert not [a for a in actions if a is not None and "/URI" in a]
    assert str(stage) not in pdf.decode("latin-1")
    assert "text" in text_of(reader)


def spaced_chart(space_mm: float) -> str:
    """A page of ``space_mm`` of filler, then a chart 127.5 mm tall at full width."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img" '
           'aria-label="chart"><rect x="0" y="0" width="400" height="300" fill="#0072b2"/></svg>')
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'
            f'<body><div style="height: {space_mm}mm"></div>'
            f'<figure class="chart" id="chart-s1"><div class="chart-wrap">{svg}</div></figure>'
            '</body></html>')


@pytest.mark.parametrize(("space_mm", "pages"), [
    (125.0, 1),  # 126 mm left: the chart is drawn about 9% smaller, on the same page
    (140.0, 2),  # 111 mm left: it would be drawn 21% smaller (text under 8.5 pt); it moves
    (200.0, 2),  # 51 mm left: too little; the chart moves whole to the next page
])
def test_a_chart_that_almost_fits_is_made_to_fit(stage: Path, space_mm: float,
                                                 pages: int) -> None:
    reader = PdfReader(io.BytesIO(render(stage, spaced_chart(space_mm))))
    assert len(reader.pages) == pages


def test_the_guessed_fits_change_no_byte_of_the_pdf(stage: Path) -> None:
    html = spaced_chart(125.0)
    options: dict[str, object] = {"report": "demo", "meta": META, "attachments": FILES}
    cold = render_pdf(html, stage, **options)  # type: ignore[arg-type]
    assert len(cold.fits) == 1 and "#chart-s1" in cold.fits[0]
    for guess in (cold.fits, ("#chart-s1 img { max-height: 20mm !important; }",)):
        warm = render_pdf(html, stage, guess=guess, **options)  # type: ignore[arg-type]
        assert warm == cold


# pdf_layout.laid_out with stand-ins: a "document" is the rules it was laid out with, and
# FITS says which rules each document asks for.  Only this process's layouts
# are recorded; the forked copy's are not.
FITS = {(): ["a"], ("a",): [], ("b",): ["c"], ("b", "c"): []}


@pytest.mark.parametrize(("fits", "guess", "layouts", "document", "first"), [
    (FITS, (), [(), ("a",)], ("a",), ["a"]),
    (FITS, ("a",), [("a",)], ("a",), ["a"]),  # right guess: one layout here
    (FITS, ("b",), [("b",), ("a",)], ("a",), ["a"]),  # wrong guess
    ({(): [], ("a",): []}, ("a",), [("a",), ()], (), []),  # nothing to fit any more
    ({(): ["a"], ("a",): ["d"], ("a", "d"): []}, ("a",), [("a",), ("a", "d")], ("a", "d"),
     ["a"]),  # fitting one chart moved the next
])
def test_laid_out_keeps_a_layout_only_when_the_guess_was_right(
        monkeypatch: pytest.MonkeyPatch, fits: dict[tuple[str, ...], list[str]],
        guess: tuple[str, ...], layouts: list[tuple[str, ...]], document: tuple[str, ...],
        first: list[str]) -> None:
    from reportgen.render import pdf_layout as module

    monkeypatch.setattr(module, "_fit_moved_charts", lambda doc: list(fits[doc]))
    made: list[tuple[str, ...]] = []

    def lay_out(rules: Sequence[str]) -> tuple[str, ...]:
        made.append(tuple(rules))
        return tuple(rules)

    assert module.laid_out(lay_out, guess) == (document, first)
    assert made == layouts


def test_laid_out_lays_out_here_when_the_copy_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.render import pdf_layout as module

    here = os.getpid()

    def fit(doc: tuple[str, ...]) -> list[str]:
        if os.getpid() != here:
            raise RuntimeError("the copy fails")
        return list(FITS[doc])

    monkeypatch.setattr(module, "_fit_moved_charts", fit)
    made: list[tuple[str, ...]] = []

    def lay_out(rules: Sequence[str]) -> tuple[str, ...]:
        made.append(tuple(rules))
        return tuple(rules)

    assert module.laid_out(lay_out, ("a",)) == (("a",), ["a"])
    assert made == [("a",), (), ("a",)]
