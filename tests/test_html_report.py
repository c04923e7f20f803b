"""The report page and the site index: structure, figures, links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reportgen.analyse.analysis import Analysis, analyse, card
from reportgen.core import figures, resources
from reportgen.render import charts
from reportgen.render.html import Links, render_index, render_report
from tests.test_html_support import parse, report

EXAMPLE = Path(__file__).resolve().parent.parent / "reports" / "bhyve-smp"
ALL_LINKS = Links(("pdf", "txt", "md"), ("native.json", "guest.json"))


def page(analysis: Analysis, links: Links = ALL_LINKS) -> str:
    drawn = charts.section_charts(analysis) + [charts.overview_chart(analysis)]
    return render_report(analysis, drawn, links)


@pytest.fixture(scope="module")
def two() -> Analysis:
    return analyse(report())


@pytest.fixture(scope="module")
def three() -> Analysis:
    return analyse(report(("native", "guest", "jail")))


def test_section_headings_carry_number_anchor_and_badge(two: Analysis) -> None:
    html = page(two)
    # The badge is coloured by its verdict and tier, and says its verdict in words
    # to a screen reader ("worse, moderate: ~4x").
    assert ('<h3 id="s1"><span class="number">1.</span> Syscall getpid() <span class="badges">'
            '<span class="badge verdict-worse tier-moderate"><span class="visually-hidden">'
            'worse, moderate: </span>~4x</span></span>\n'
            ' <a class="permalink" href="#s1" aria-label="Link to section 1">#</a></h3>') in html
    # One badge per part, each in its own verdict's colour.
    assert ('<span class="badges"><span class="badge verdict-worse tier-moderate">'
            '<span class="visually-hidden">worse, moderate: </span>-36% write</span> '
            '<span class="badge verdict-worse tier-moderate">'
            '<span class="visually-hidden">worse, moderate: </span>-48% read</span></span>') in html
    assert '<h3 id="s3"><span class="number">3.</span> Disk: write+fsync <span class="badges">' \
           '<span class="badge verdict-worse tier-severe"><span class="visually-hidden">' \
           'worse, severe: </span>~19x</span></span>' in html


def test_badge_parts_name_their_environment_when_several(three: Analysis) -> None:
    html = page(three)
    assert ('<span class="badge-env">guest:</span> <span class="badge verdict-worse tier-moderate">'
            '<span class="visually-hidden">worse, moderate: </span>~4x</span> '
            '<span class="badge-env">jail:</span> <span class="badge verdict-same tier-negligible">'
            'same</span>') in html  # "same" says its verdict already


def test_contents_link_every_part_and_section(two: Analysis) -> None:
    doc = parse(page(two))
    nav = [a for t, a in doc.tags if t == "a" and a.get("href", "").startswith("#")]
    targets = [a["href"] for a in nav if a.get("class") != "permalink"]
    assert targets == ["#system", "#analysis", "#s1", "#s2", "#s3", "#conclusions", "#overview",
                       "#summary"]
    ids = {a.get("id") for _, a in doc.tags}
    assert {t[1:] for t in targets} <= ids
    # Every section heading has its permalink.
    assert {a["href"] for a in nav if a.get("class") == "permalink"} == \
        {"#system", "#analysis", "#s1", "#s2", "#s3", "#conclusions", "#overview", "#summary"}


def test_scrolling_boxes_are_focusable_and_labelled(two: Analysis) -> None:
    doc = parse(page(two))
    boxes = [a for _, a in doc.tags if a.get("class") in ("table-wrap", "chart-wrap")]
    assert boxes and all(a.get("tabindex") == "0" and a.get("role") == "region"
                         and a.get("aria-label") for a in boxes)
    assert len({a["aria-label"] for a in boxes}) == len(boxes)  # each named apart
    assert [t for t, _ in doc.tags].count("main") == 1


def test_parts_in_the_seed_order(two: Analysis) -> None:
    doc = parse(page(two))
    assert doc.text_of("h1") == "SMP guest"
    h2 = [t.strip() for t in doc.texts["h2"] if t.strip() not in ("", "#")]
    assert h2 == ["Headline", "Contents", "System", "Analysis and notes", "Conclusions", "Summary"]


def test_results_tables_show_medians_slowdown_and_interval(two: Analysis) -> None:
    html = page(two)
    getpid = two.sections[0].metrics[0]
    guest = getpid.measurements[1]
    assert guest.comparison is not None
    cell = '<td class="num" data-label="{}" role="cell">{}</td>'.format
    assert cell("Median", figures.quantity(182, "ns")) in html
    assert cell("Median", figures.quantity(46, "ns")) in html
    assert cell("Slowdown", figures.ratio(guest.comparison.slowdown)) in html
    assert cell("95% interval", figures.interval(guest.comparison.interval)) in html
    assert ('<td class="num samples" data-label="Samples" role="cell">5'
            '<span class="tool">c-loop</span></td>') in html
    # The verdict in words beside the badge: the sign of -36% does not say it.
    assert ('<td class="verdict" role="cell"><span class="badge verdict-worse tier-moderate">'
            '<span class="visually-hidden">worse, moderate: </span>-36%</span> '
            '<span class="reason">worse, moderate</span></td>') in html


def test_every_table_has_a_head(two: Analysis) -> None:
    doc = parse(page(two))
    tags = [t for t, _ in doc.tags]
    # The author's system rows are a key/value list; every other table has a header row.
    assert tags.count("table") - 1 == tags.count("thead")


def test_failed_metric_is_shown_with_its_error() -> None:
    html = page(analyse(report(("native", "guest", "jail"))))
    assert ('<td colspan="6" class="missing verdict" role="cell">failed: no space left on device'
            '</td>') in html


def test_charts_are_inline_images_with_alt_text(two: Analysis) -> None:
    drawn = charts.section_charts(two) + [charts.overview_chart(two)]
    svgs = [a for t, a in parse(render_report(two, drawn, ALL_LINKS)).tags if t == "svg"]
    assert [(a["role"], a["aria-label"]) for a in svgs] == [("img", c.alt) for c in drawn]
    html = render_report(two, drawn, ALL_LINKS)
    assert "<?xml" not in html and "<style" not in html
    ids = [a["id"] for _, a in parse(html).tags if a.get("id")]
    assert len(ids) == len(set(ids))  # several charts in one page: no id twice


def test_missing_charts_are_left_out(two: Analysis) -> None:
    html = render_report(two, [], ALL_LINKS)
    assert "<svg" not in html


def test_links_are_relative_and_only_to_built_files(two: Analysis) -> None:
    doc = parse(page(two, Links(("txt",), ("native.json",))))
    urls = [a[k] or "" for _, a in doc.tags for k in ("href", "src") if k in a]
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and not url.startswith("/"), url
    assert "report.txt" in urls and "data/native.json" in urls
    assert "report.pdf" not in urls and "report.md" not in urls
    assert "../style.css" in urls and "../index.html" in urls


def test_css_root_is_configurable(two: Analysis) -> None:
    html = render_report(two, [], ALL_LINKS, root="../..")
    assert '<link rel="stylesheet" href="../../style.css">' in html


def test_snapshots_are_linked_and_must_be_relative(two: Analysis) -> None:
    links = Links(("pdf",), (), (("2026-06-09 (abcd1234)", "../archive/smp/x.pdf"),))
    assert '<a href="../archive/smp/x.pdf">2026-06-09 (abcd1234)</a>' in page(two, links)
    for bad in ("https://example.org/x.pdf", "/abs/x.pdf", "//host/x.pdf", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            page(two, Links(("pdf",), (), (("x", bad),)))


def test_generator_meta_has_no_version_or_time(two: Analysis) -> None:
    assert '<meta name="generator" content="reportgen">' in page(two)


def test_spec_side_by_side_with_differences_highlighted(three: Analysis) -> None:
    html = page(three)
    assert ('<th scope="col" role="columnheader">native</th><th scope="col" role="columnheader">'
            'guest</th><th scope="col" role="columnheader">jail</th>') in html
    # Memory: 64 GiB on the host and in the jail, 4 GiB in the guest; each value
    # labelled with its environment for when the rows are stacked.
    assert ('<tr role="row"><th scope="row" role="rowheader">Memory</th>'
            '<td data-label="native" role="cell">64 GiB</td>'
            '<td class="differs" data-label="guest" role="cell"><mark>4 GiB</mark></td>'
            '<td data-label="jail" role="cell">64 GiB</td></tr>') in html


def test_conclusions_per_environment_grouped_by_tier(three: Analysis) -> None:
    doc = parse(page(three))
    assert "guest against native" in doc.texts["h3"]
    assert "jail against native" in doc.texts["h3"]
    assert [t for t in doc.texts["h4"]] == [
        "Moderate overhead", "Severe overhead", "Negligible overhead"]
    tables = [a["class"] for t, a in doc.tags if t == "table" and "tier" in (a["class"] or "")]
    assert tables == ["tier tier-moderate stack", "tier tier-severe stack",
                      "tier tier-negligible stack"]


def test_single_environment_uses_tier_headings_directly(two: Analysis) -> None:
    html = page(two)
    assert '<h3 class="tier-heading tier-moderate">Moderate overhead</h3>' in html
    assert "<h4" not in html


def test_overview_table_repeats_the_chart_numbers(two: Analysis) -> None:
    html = page(two)
    for c in two.comparisons:
        assert f'<td class="num" data-label="Slowdown" role="cell">{figures.ratio(c.slowdown)}</td>' \
            in html
        assert figures.ratio(c.slowdown) in charts.overview_chart(two).alt


def test_stylesheet_uses_the_chart_tier_colours() -> None:
    css = resources.site_assets()["style.css"].decode()
    for tier, colour in charts.TIER_COLOURS.items():
        assert f"--{tier}: {colour};" in css
    assert "http:" not in css and "https:" not in css and "@import" not in css


def test_index_lists_reports_newest_first_with_worst_slowdowns() -> None:
    old = analyse(report(slug="old", title="Old run", date=dt.date(2025, 1, 1)))
    new = analyse(report(slug="new", title="New run", date=dt.date(2026, 1, 1)))
    html = render_index("Benchmarks", [card(old), card(new)], {"old": ALL_LINKS, "new": Links((), ())})
    assert '<section id="history"' in html  # both measured the same metrics: see test_site_pages
    doc = parse(html.split('<section id="history"')[0])
    assert [t for t in doc.texts["h2"] if t.strip()] == ["New run", "Old run"]
    hrefs = [a["href"] for t, a in doc.tags if t == "a" and a["href"] != "#history"]
    assert hrefs == ["new/index.html", "new/index.html", "old/index.html", "old/index.html",
                     "old/report.pdf", "old/report.txt", "old/report.md",
                     "old/data/native.json", "old/data/guest.json"]
    assert '<link rel="stylesheet" href="style.css">' in html
    # Worst first: fsync ~19x, getpid ~4x, sysbench read -48%.
    rows = [t for t in doc.texts["th"] if t.endswith(("latency", "throughput", "read", "write"))]
    assert rows[:3] == ["write+fsync throughput", "getpid() latency", "sysbench memory read"]


def test_index_names_each_box_apart_when_reports_share_a_title() -> None:
    """A series of runs under one title: axe-core's landmark-unique wants each
    labelled region named apart."""
    runs = [analyse(report(slug=f"run-{n}", title="Nightly run", date=dt.date(2026, n, 1)))
            for n in (1, 2)]
    doc = parse(render_index("Benchmarks", [card(a) for a in runs], {}))
    labels = [a["aria-label"] for _, a in doc.tags if a.get("role") == "region"]
    assert "Largest slowdowns: Nightly run, 2026-02-01" in labels
    assert len(labels) == len(set(labels)) > 2  # the history's boxes too


def test_index_without_slowdowns_says_so() -> None:
    same = analyse(report(("native", "jail")))
    html = render_index("Benchmarks", [card(same)], {})
    assert "No slowdowns" in html and "<table" not in html


def test_pages_are_deterministic(two: Analysis) -> None:
    assert page(two) == page(analyse(report()))


@pytest.mark.skipif(not (EXAMPLE / "report.yml").exists(), reason="example not written yet")
def test_example_report_renders_in_the_seed_structure() -> None:
    from reportgen.read import report_yml

    analysis = analyse(report_yml.load_report(EXAMPLE).report)
    doc = parse(page(analysis))
    ids = [a["id"] for t, a in doc.tags if t == "h3" and (a.get("id") or "").startswith("s")]
    assert ids == [f"s{n}" for n in range(1, len(analysis.sections) + 1)]
    badges = {s.badge for s in analysis.sections}
    assert {"~4x", "~66x", "~19x"} <= badges
    html = page(analysis)
    for badge in ("~66x", "~19x"):
        assert (f'<span class="badge verdict-worse tier-severe"><span class="visually-hidden">'
                f'worse, severe: </span>{badge}</span></span>\n <a class="permalink"') in html


def test_index_card_of_one_environment_says_nothing_was_compared() -> None:
    # a report of one machine (a run in a series) has no slowdown to list, and
    # "every metric is the same as host or faster" would claim comparisons never made
    alone = analyse(report(("native",)))
    html = render_index("Benchmarks", [card(alone)], {})
    assert "One environment (native): nothing is compared within the report." in html
    assert "No slowdowns" not in html


def test_headline_of_one_environment_says_nothing_was_compared() -> None:
    from reportgen.render import markdown, text

    alone = analyse(report(("native",)))
    note = "One environment (native): nothing is compared within the report."
    html = page(alone)
    assert f'<p class="note">{note}</p>' in html
    assert 'class="headline stack"' not in html  # no empty table
    # nor an overview chart of no slowdown above an empty table
    assert html.count(f'<p class="note">{note}</p>') == 2
    assert 'class="overview stack"' not in html and 'aria-label="Overview chart"' not in html
    assert f"Headline (computed from the measurements, against native):\n  {note}" in \
        text.render(alone)
    md = markdown.render(alone, {"overview": "charts/overview.svg"})
    assert f"## Headline\n\nComputed from the measurements: slowdowns against native.\n\n{note}\n" \
        in md
    assert md.count(note) == 2 and "charts/overview.svg" not in md
