"""The PDF paginates as a person printing it would want, read back from the PDF.

Both examples and the four-environment fixture are built with their PDF; each
PDF's pages are read with poppler's pdftotext (not with WeasyPrint, which laid
them out), and what they must show is taken from the report's web page:

* no heading (h1-h4, badges included) is the last text of a page;
* the rows of one metric in a results table (its name row and one row per
  environment) are on one page;
* the summary is on one page, after other content of the report (the
  overview or the conclusions): it never stands alone;
* every page but the last is at least half full, measured from the top of the
  content to its lowest word (a chart's lowest word is its legend), unless the
  next page opens with a chart (its caption among its first two lines), which
  WeasyPrint moves only when it does not fit in what is left.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from tests.golden import FOUR_ENV, cwd

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ("bhyve-smp", "firecracker-aa", "four-env")
SKIPPED = {"nav", "script", "style", "svg"}  # not text of the report's body in the PDF
HIDDEN = {"visually-hidden", "permalink", "toc"}  # classes the PDF does not show
FOOTER = re.compile(r"page \d+ of \d+")

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils (pdftotext) is not installed")


def words(text: str) -> str:
    """``text`` with its whitespace collapsed and the separator dots the
    stylesheet puts before a unit ("time · index") left out."""
    return " ".join(text.replace("\u00b7", " ").split())


@dataclass
class Page:
    """What the report's web page says the PDF must keep together."""

    title: str = ""
    headings: list[str] = field(default_factory=list)
    metrics: list[tuple[str, list[str]]] = field(default_factory=list)  # name row, row labels
    summary: str = ""
    charts: list[str] = field(default_factory=list)  # each chart's label (its caption)


class _Reader(HTMLParser):
    """Headings, results-table metrics and the summary of a report page, as text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)
        self.heading: list[str] | None = None
        self.in_results = False
        self.in_summary = 0
        self.cell: list[str] | None = None
        self.cell_kind = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        hidden = bool(self.stack and self.stack[-1][1]) or bool(classes & HIDDEN) \
            or tag in SKIPPED
        if tag in {"br", "img", "meta", "link", "input", "hr"}:
            return
        self.stack.append((tag, hidden))
        if hidden:
            return
        if re.fullmatch(r"h[1-4]", tag):
            self.heading = []
        elif tag == "table" and "results" in classes:
            self.in_results = True
        elif tag == "tr" and self.in_results and "metric" in classes:
            self.cell, self.cell_kind = [], "metric"
        elif tag == "th" and self.in_results and dict(attrs).get("scope") == "row":
            self.cell, self.cell_kind = [], "row"
        elif tag == "div" and "chart-wrap" in classes:
            self.page.charts.append(words(dict(attrs).get("aria-label") or ""))
        elif tag == "section" and "summary" in classes:
            self.in_summary = len(self.stack)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or tag in {"br", "img", "meta", "link", "input", "hr"}:
            return
        while self.stack:
            open_tag, hidden = self.stack.pop()
            if open_tag == tag:
                break
        if hidden:
            return
        if re.fullmatch(r"h[1-4]", tag) and self.heading is not None:
            text = words("".join(self.heading))
            self.page.headings.append(text)
            if tag == "h1":
                self.page.title = text
            self.heading = None
        elif tag == "table":
            self.in_results = False
        elif self.cell is not None and ((tag == "tr" and self.cell_kind == "metric")
                                        or (tag == "th" and self.cell_kind == "row")):
            text = words("".join(self.cell))
            if self.cell_kind == "metric":
                self.page.metrics.append((text, []))
            else:
                self.page.metrics[-1][1].append(text)
            self.cell = None
        elif tag == "section" and self.in_summary and len(self.stack) < self.in_summary:
            self.in_summary = 0

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][1]:
            return
        for part in (self.heading, self.cell):
            if part is not None:
                part.append(data)
        if self.in_summary and self.heading is None:
            self.page.summary += data


def read_page(html: Path) -> Page:
    reader = _Reader()
    reader.feed(html.read_text())
    page = reader.page
    page.summary = words(page.summary)
    assert page.title and page.headings and page.metrics and page.summary, html
    return page


def page_lines(pdf: Path) -> list[list[str]]:
    """Each page's lines as pdftotext -layout prints them, without blank lines,
    the running header (pages after the first) and the "page N of M" footer."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = []
    for number, page in enumerate(text.split("\f")[:-1], 1):
        lines = [line for line in page.splitlines() if line.strip()]
        assert FOOTER.fullmatch(words(lines[-1])), f"page {number} has no footer"
        lines = lines[:-1]
        if number > 1:
            lines = lines[1:]  # the running header: report title and part
        pages.append(lines)
    return pages


def page_fill(pdf: Path) -> list[float]:
    """How far down each page its lowest word reaches, as a fraction of the
    content area: from the top of the first page's content to the lowest word
    of the fullest page (running header and footer left out)."""
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = []
    for page in re.findall(r"<page .*?</page>", bbox, re.DOTALL):
        found = [(float(y0), float(y1), text) for y0, y1, text in re.findall(
            r'<word xMin="[^"]+" yMin="([^"]+)" xMax="[^"]+" yMax="([^"]+)">([^<]*)</word>', page)]
        footer = max(y0 for y0, _y1, _t in found)
        pages.append([w for w in found if w[0] < footer - 1])  # the footer's line goes
    top = min(y0 for y0, _y1, _t in pages[0])  # the first page has no running header
    body = [[w for w in page if w[0] >= top - 1] for page in pages]
    lowest = [max(y1 for _y0, y1, _t in page) for page in body]
    return [(low - top) / (max(lowest) - top) for low in lowest]


@dataclass
class Built:
    pdf: Path
    page: Page
    lines: list[list[str]]

    @property
    def texts(self) -> list[str]:
        return [words(" ".join(lines)) for lines in self.lines]


def _build(directory: Path, output: Path) -> None:
    with cwd(directory):
        result = CliRunner().invoke(main, ["build", "--formats", "html,pdf", "-o", str(output)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    root = tmp_path_factory.mktemp("pagination")
    _build(ROOT, root / "examples")
    _build(FOUR_ENV, root / "four-env")
    out = {}
    for slug in REPORTS:
        report = root / ("four-env" if slug == "four-env" else "examples") / slug
        pdf = report / "report.pdf"
        out[slug] = Built(pdf, read_page(report / "index.html"), page_lines(pdf))
    return out


@pytest.mark.parametrize("slug", REPORTS)
def test_no_heading_is_the_last_text_of_a_page(built: dict[str, Built], slug: str) -> None:
    report = built[slug]
    assert len(report.page.headings) >= 10
    for number, text in enumerate(report.texts, 1):
        for heading in report.page.headings:
            assert not text.endswith(heading), f"page {number} ends with heading {heading!r}"


def _rows_after(lines: list[str], start: int, names: set[str], labels: set[str]) -> list[str]:
    """The environment labels that open rows below line ``start`` of a page,
    up to the next metric's name row (a chart's labels may follow the table)."""
    found = []
    for line in lines[start + 1:]:
        if words(line) in names:
            break
        first = re.match(r"\s*(\S+)(?:\s{2,}|$)", line)
        if first and first.group(1) in labels:
            found.append(first.group(1))
    return found


@pytest.mark.parametrize("slug", REPORTS)
def test_the_rows_of_a_metric_are_on_one_page(built: dict[str, Built], slug: str) -> None:
    report = built[slug]
    names = {name for name, _rows in report.page.metrics}
    labels = {label for _name, rows in report.page.metrics for label in rows}
    assert len(names) == len(report.page.metrics)  # each name row is told apart
    for name, rows in report.page.metrics:
        places = [(number, index) for number, lines in enumerate(report.lines, 1)
                  for index, line in enumerate(lines) if words(line) == name]
        assert len(places) == 1, f"{name!r} found on {places}"
        number, index = places[0]
        got = _rows_after(report.lines[number - 1], index, names, labels)[:len(rows)]
        assert got == rows, f"page {number}: {name!r} has rows {got}, not {rows}"


@pytest.mark.parametrize("slug", REPORTS)
def test_the_summary_is_not_alone_on_a_page(built: dict[str, Built], slug: str) -> None:
    report = built[slug]
    pages = [number for number, lines in enumerate(report.lines, 1)
             if any(words(line) == "Summary" for line in lines)]
    assert len(pages) == 1
    lines = report.lines[pages[0] - 1]
    index = next(i for i, line in enumerate(lines) if words(line) == "Summary")
    before, after = words(" ".join(lines[:index])), words(" ".join(lines[index + 1:]))
    assert after.startswith(report.page.summary[:60])
    assert report.page.summary[-60:] in after, "the summary continues on the next page"
    assert len(before.split()) >= 40, f"page {pages[0]} holds little but the summary"


@pytest.mark.parametrize("slug", REPORTS)
def test_every_page_but_the_last_is_at_least_half_full(built: dict[str, Built],
                                                       slug: str) -> None:
    report = built[slug]
    fill = page_fill(report.pdf)
    assert len(fill) == len(report.lines) and len(report.page.charts) >= 7
    opens_with_chart = [any(words(line) in report.page.charts for line in lines[:2])
                        for lines in report.lines]
    low = [(number, round(f, 2)) for number, f in enumerate(fill[:-1], 1)
           if f < 0.5 and not opens_with_chart[number]]
    assert not low, f"pages less than half full: {low}"
