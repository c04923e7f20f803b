"""The report page and the site index as HTML, from Jinja2 templates in templates/.

Every template is autoescaped and undefined names are errors.  Author Markdown
goes through reportgen.core.markdown (raw HTML off) and is the only text marked safe;
everything else, including hostnames and CPU strings from results files, is
escaped.  Pages use relative links only, so the site works from file://.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup, escape

from reportgen.analyse import compare, headline, wording
from reportgen.analyse.analysis import (
    Analysis,
    Measurement,
    SectionView,
    noise_intro,
    noise_text,
)
from reportgen.analyse.compare import Comparison
from reportgen.core import figures, markdown, resources
from reportgen.core.cards import Card, CardMetric
from reportgen.core.model import TIERS, Report
from reportgen.render import template_cache
from reportgen.render.analysis_json import ANALYSIS_FILE
from reportgen.render.charts import Chart, inline, metric_names

# Format key -> (file beside the report's index.html, link text).
FORMATS = {
    "pdf": ("report.pdf", "PDF"),
    "txt": ("report.txt", "Plain text"),
    "md": ("report.md", "Markdown"),
}
WORST_ON_INDEX = 3  # slowdowns listed per report on the site index


@dataclass(frozen=True)
class Links:
    """What a report page may link to: only files the build writes."""

    formats: tuple[str, ...]  # subset of FORMATS' keys
    data: tuple[str, ...]  # file names under data/
    snapshots: tuple[tuple[str, str], ...] = ()  # (label, relative href) of archived PDFs
    analysis: bool = False  # analysis.json lies beside the page (not in a PDF)


@dataclass(frozen=True)
class Link:
    text: str
    href: str


def templates_dir() -> Path:
    """The templates/ folder, in the checkout or the installed package (shared with PDF)."""
    return resources.TEMPLATES


def environment() -> jinja2.Environment:
    """The Jinja2 environment for our templates: autoescape on, undefined is an
    error.  One per process, so each template is compiled once (Jinja2 still
    reloads a template whose file changed, for `reportgen serve`), and once
    across builds where the build keeps a cache (template_cache.use)."""
    env = _environment()
    template_cache.attach(env)
    return env


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = lambda source: Markup(markdown.to_html(source))
    env.filters["inline"] = lambda source: Markup(markdown.inline_html(source))
    env.filters["glue_figures"] = glue_figures
    env.globals.update(
        quantity=figures.quantity, ratio=figures.ratio, percent=figures.percent,
        interval=figures.interval, number=figures.number, tiers=TIERS,
        section_tier=section_tier, slowdown_range=wording.slowdown_range,
        status_text=status_text,
        counts_text=headline.counts_text,
        p_value=figures.p_value, verdict_text=wording.verdict_text, untiered=compare.UNTIERED,
        noise_intro=noise_intro, noise_text=noise_text,
        unit=figures.unit, badge_groups=badge_groups, chart_svg=lambda chart: Markup(inline(chart)),
        verdict_words=verdict_words, result_words=result_words, worst_verdict=worst_verdict,
    )
    return env


def render_report(analysis: Analysis, charts: Sequence[Chart], links: Links, *,
                  root: str = "..", for_pdf: bool = False) -> str:
    """The HTML of output/<slug>/index.html; ``for_pdf``: the page the PDF is
    made from, whose charts are the files under charts/ rather than inline."""
    report = analysis.report
    by_name = {chart.name: chart for chart in charts}
    return environment().get_template("report.html").render(
        a=analysis,
        report=report,
        root=root,
        downloads=_downloads(links, ""),
        snapshots=[Link(label, _relative(href)) for label, href in links.snapshots],
        section_charts={s.anchor: by_name.get(f"{s.anchor}.svg") for s in analysis.sections},
        overview=by_name.get("overview.svg"),
        names=metric_names(analysis),
        several=len(report.others) > 1,
        analysis_href=ANALYSIS_FILE if links.analysis else "",
        for_pdf=for_pdf,
    )


def render_index(title: str, cards: Sequence[Card], links: Mapping[str, Links], *,
                 feed: str = "", series: Sequence[Any] = ()) -> str:
    """The HTML of output/index.html: every report, newest first, then the history
    of the metrics they share.  ``feed`` is the relative href of the Atom feed,
    when the build writes one; ``series`` what it shows of each series
    (render/series.IndexEntry)."""
    ordered = sorted(cards, key=lambda c: (c.date, c.slug), reverse=True)
    entries = [_IndexEntry.of(c, links.get(c.slug, Links((), ()))) for c in ordered]
    return environment().get_template("index.html").render(
        title=title, entries=entries, history=history(cards),
        feed=_relative(feed) if feed else "", series=series)


def render_not_found(title: str) -> str:
    """The HTML of output/404.html, for the web server to answer unknown paths with."""
    return environment().get_template("404.html").render(title=title)


@dataclass(frozen=True)
class HistoryRow:
    card: Card
    href: str  # the report page, relative to the index
    metric: CardMetric


@dataclass(frozen=True)
class MetricHistory:
    """How one metric moved from report to report, oldest report first."""

    id: str
    anchor: str
    name: str  # as the newest report names it
    rows: tuple[HistoryRow, ...]


def history(cards: Sequence[Card]) -> list[MetricHistory]:
    """Every metric that two or more reports measured in the same environment.

    Rows are the (report, environment) pairs of such a metric, by report date
    (oldest first), then slug and environment; an environment that only one
    report has for the metric is left out.  Metrics come in the order the newest
    report that has them lists them.
    """
    newest = sorted(cards, key=lambda c: (c.date, c.slug), reverse=True)
    pairs: dict[tuple[str, str], dict[str, tuple[Card, CardMetric]]] = {}
    for card in newest:
        for m in card.metrics:
            pairs.setdefault((m.id, m.env), {}).setdefault(card.slug, (card, m))
    shared: dict[str, list[tuple[Card, CardMetric]]] = {}
    for (metric_id, _env), found in pairs.items():
        if len(found) >= 2:
            shared.setdefault(metric_id, []).extend(found.values())
    views = []
    for metric_id, rows in shared.items():
        rows.sort(key=lambda r: (r[0].date, r[0].slug, r[1].env))
        views.append(MetricHistory(
            metric_id, "m-" + metric_id.replace(".", "-"), rows[-1][1].name,
            tuple(HistoryRow(c, _report_href(c), m) for c, m in rows)))
    return views


@dataclass(frozen=True)
class _IndexEntry:
    card: Card
    href: str
    downloads: Downloads
    worst: tuple[CardMetric, ...]
    analysis: str  # href of the report's analysis.json, or ""

    @classmethod
    def of(cls, card: Card, links: Links) -> _IndexEntry:
        folder = quote(card.slug, safe="") + "/"
        return cls(card, _report_href(card), _downloads(links, folder),
                   card.worst(WORST_ON_INDEX), folder + ANALYSIS_FILE if links.analysis else "")


def _report_href(card: Card) -> str:
    return quote(card.slug, safe="") + "/index.html"


def section_tier(section: SectionView) -> str:
    """The worst tier in a section, or ``none`` when nothing could be compared."""
    found = [c for m in section.metrics for c in m.comparisons]
    return wording.worst_tier(found) if found else "none"


@dataclass(frozen=True)
class Badge:
    """A badge as the page draws it: its text, and the verdict and tier it is coloured by."""

    text: str
    verdict: str  # one of compare.VERDICTS, or "none" where nothing was compared
    tier: str


def badge_groups(section: SectionView, report: Report) -> list[tuple[str, list[Badge]]]:
    """A section's badge parts by environment, in report order, each with the
    verdict it is coloured by: a part's own comparison, or for the author's
    badge (one part for the whole section) the worst of the section's."""
    every = [c for m in section.metrics for c in m.comparisons]
    keys = [(env.label, m.id) for env in report.others for m in section.metrics]
    if len(section.parts) == len(keys):  # composed: one part per environment and metric
        found = {(c.env, c.metric_id): c for c in every}
        verdicts = [worst_verdict([found[k]] if k in found else []) for k in keys]
    else:
        verdicts = [worst_verdict(every)] * len(section.parts)
    badges = [Badge(p.text, verdict, tier) for p, (verdict, tier) in zip(section.parts, verdicts)]
    return [(env, [b for _, b in group]) for env, group in itertools.groupby(
        zip(section.parts, badges), key=lambda pair: pair[0].env)]


# Which verdict a badge that stands for several results is coloured by: any
# worse one (its highest tier) first, as the cost the reader must not miss.
_WORST_FIRST = ("worse", "not-comparable", "inconclusive", "same", "better")


def worst_verdict(comparisons: Sequence[Comparison]) -> tuple[str, str]:
    """(verdict, tier) of the worst of ``comparisons``; ("none", "none") for none."""
    if not comparisons:
        return "none", "none"
    verdict = min((c.verdict for c in comparisons), key=_WORST_FIRST.index)
    tiers = [c.tier for c in comparisons if c.verdict == verdict]
    return verdict, max(tiers, key=TIERS.index) if verdict == "worse" else tiers[0]


def verdict_words(verdict: str, tier: str) -> str:
    """The verdict in words, as a badge's accessible name begins: ``worse, moderate``."""
    if verdict == "worse":
        return f"worse, {tier}"
    if verdict == "none":
        return "no result"
    return verdict.replace("-", " ")


def result_words(c: Comparison) -> str:
    """What a results table writes beside a comparison's badge: the verdict in
    words (``worse, moderate``), an untiered one with its reason."""
    if c.verdict in compare.UNTIERED:
        return wording.verdict_text(c)
    if c.verdict == "same":
        return "within noise"
    return verdict_words(c.verdict, c.tier)


# The spaces a note's line must not break at: inside "CV 26%", "1 outlier",
# "p = 0.44", "need >= 5", "past ±3.00%".
_GLUED = re.compile(r"(?<=\w) (?=[\d±])|(?<=\d) (?=[a-z])|(?<=\S) (?=[=<>]=? )|(?<=[=<>]) ")


def glue_figures(text: str) -> Markup:
    """``text`` escaped, with a no-break space wherever a figure would be parted
    from its name or unit, so a note that wraps in a narrow cell wraps between
    its parts (``unstable: | CV 26%, | 1 outlier``)."""
    return Markup("&nbsp;").join(escape(part) for part in _GLUED.split(text))


def status_text(measurement: Measurement) -> str:
    """Why a measurement has no median: ``failed: no space left on device``."""
    metric = measurement.metric
    if metric.status == "ok":
        return "no samples"
    return f"{metric.status}: {metric.error}" if metric.error else metric.status


@dataclass(frozen=True)
class Downloads:
    formats: tuple[Link, ...]  # the report in other formats
    data: tuple[Link, ...]  # the results files it was built from


def _downloads(links: Links, folder: str) -> Downloads:
    """Links to the built files; ``folder`` leads from the page to the report's folder."""
    return Downloads(
        tuple(Link(FORMATS[f][1], folder + FORMATS[f][0]) for f in FORMATS if f in links.formats),
        tuple(Link(name, f"{folder}data/{quote(name, safe='')}") for name in links.data),
    )


def _relative(href: str) -> str:
    """Refuse anything that would leave the site or need a network."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/"):
        raise ValueError(f"link must be relative: {href!r}")
    return href
