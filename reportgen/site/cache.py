"""Incremental builds: fingerprints of every input, kept beside the output.

A report is rendered again only when its fingerprint changed: the bytes of
the files the loader reads (report.yml and its results), the code and templates that render it, the
site settings it depends on and the archive index its page links to.  The
manifest lives in the output it describes, so deleting output/ simply means a
full build.  Unchanged reports are carried over by hard links, and a build in
which nothing changed stops before importing any renderer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.core import resources
from reportgen.core.cards import Card
from reportgen.core.documents import parse_yaml
from reportgen.core.errors import InputError, Problem
from reportgen.core.model import Report, Site
from reportgen.core.paths import Below, plain_parts
from reportgen.read.report_yml import default_results
from reportgen.site import series
from reportgen.site.linkcheck import Page

if TYPE_CHECKING:  # the analysis loads numpy, which a build's main process does without
    from reportgen.analyse.analysis import Analysis

MANIFEST = ".reportgen-manifest.json"
_PACKAGE = resources.PACKAGE
_TEMPLATES = resources.TEMPLATES


def digest_files(files: list[Path], root: Path, *extra: str) -> str:
    """sha256 over file names (relative to ``root``), contents and extra strings."""
    return _digest(((p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(files)),
                   extra)


def _digest(named: Iterable[tuple[str, bytes]], extra: Sequence[str] = ()) -> str:
    """sha256 over each (name, content) in turn, then ``extra``: the one
    layout of every fingerprint of files."""
    h = hashlib.sha256()
    for name, content in named:
        h.update(name.encode() + b"\0")
        h.update(content + b"\0")
    for text in extra:
        h.update(text.encode() + b"\0")
    return h.hexdigest()


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


@lru_cache(maxsize=1)
def code_key() -> str:
    """The code, schemas and templates: a change to any of them renders everything.

    Taken from names, sizes and modification times rather than contents: the
    shipped fonts alone are megabytes, and a no-op build must stay fast. An
    edit always changes the time; at worst a touched file costs one rebuild.
    """
    files = [p for p in _files(_PACKAGE) if p.suffix in (".py", ".json")] + _files(_TEMPLATES)
    stats = sorted((p.as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return hashlib.sha256(repr(stats).encode()).hexdigest()


def chart_key(analysis: Analysis) -> str:
    """Fingerprint of everything the charts show (not the prose)."""
    sections = [dataclasses.replace(s, analysis="") for s in analysis.sections]
    rep = analysis.report
    shown = repr((sections, rep.baseline, rep.thresholds,
                  [e.label for e in rep.environments]))
    return hashlib.sha256((code_key() + shown).encode()).hexdigest()


def tests_key(rep: Report) -> str:
    """Fingerprint of what the tests on round medians see: the results files, how they are
    pooled into environments, the baseline, and the code (not the prose)."""
    h = hashlib.sha256((code_key() + rep.baseline).encode())
    for env in rep.environments:
        h.update(repr((env.label, env.file_names or (env.file_name,))).encode())
    for f in rep.inputs[1:]:  # the first is report.yml
        h.update(f.name.encode() + b"\0" + f.content + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class Rendered:
    """What the main process keeps of a report a worker loaded, analysed and rendered."""

    slug: str
    date: dt.date
    card: Card
    warnings: list[Problem]
    charts: str  # chart key
    seconds: float
    tests: tuple[str, dict[str, float | None]] = ("", {})  # tests_key and the p-values
    pdf_fits: tuple[str, ...] = ()  # see render_pdf.Pdf
    series: dict[str, Any] = field(default_factory=dict)  # its point in a series (series.py)


# Report dir name -> [sha256 of its report.yml, the results names it lists or None,
# its `follows:` and its `date` as written ("" when absent)]: see report_files.
Listed = dict[str, Any]


def report_files(report_dir: Path, listed: Listed | None = None) -> list[Path]:
    """The files the loader reads: report.yml and its results files, never a
    file a link leads to outside the report directory (the loader refuses those).

    ``listed`` remembers the results each report.yml names, with its sha256: a
    report.yml unchanged since it was last read is not parsed again (a no-op build of a large site
    would otherwise spend most of its time in the YAML parser)."""
    return [report_dir / name for name in _read_files(report_dir, listed)[0]]


def _read_files(report_dir: Path, listed: Listed | None) -> tuple[list[str], bytes | None]:
    """The names, relative to ``report_dir``, of the files report_files gives,
    and report.yml's bytes when it was read."""
    below = Below(report_dir)  # resolves the report directory once, and only if a link needs it
    if not below.inside("report.yml")[0]:
        return [], None
    listed = {} if listed is None else listed
    names: list[str] | None = None
    raw: bytes | None = None
    try:
        raw = _read(os.path.join(report_dir, "report.yml"))
        sha = hashlib.sha256(raw).hexdigest()
        seen = listed.get(report_dir.name)
        if isinstance(seen, list) and len(seen) == 4 and seen[0] == sha:
            names = seen[1]
        else:
            data = parse_yaml(raw.decode("utf-8"), "", printable=False).data
            data = data if isinstance(data, dict) else {}
            found = data.get("results")
            names = ([n for n in found if isinstance(n, str)] if isinstance(found, list)
                     else None)
            listed[report_dir.name] = [sha, names] + [
                str(data[k]) if isinstance(data.get(k), str) else "" for k in ("follows", "date")]
    except (OSError, UnicodeDecodeError, InputError):
        pass  # the loader will say what is wrong
    if names is None:  # results/*.json: plain names below results/
        names = [f"results/{p.name}" for p in default_results(report_dir) or []]
    return [n for n in ["report.yml", *names] if below.inside(n) == (True, True)], raw


def inputs_key(report_dir: Path, listed: Listed | None = None) -> str:
    """The files the loader reads for one report, and nothing else."""
    names, raw = _read_files(report_dir, listed)
    named = [(parts, n) for n in names for parts in [plain_parts(n)] if parts is not None]
    if len(named) < len(names):  # an absolute name or one with '..': as pathlib takes it
        return digest_files([report_dir / n for n in names], report_dir)
    # digest_files' order (pathlib's, by component) and names, without a Path per file
    return _digest(("/".join(parts), raw if parts == ["report.yml"] and raw is not None
                    else _read(os.path.join(report_dir, *parts)))
                   for parts, _name in sorted(named))


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def report_key(report_dir: Path, site: Site, listed: Listed | None = None,
               chained: str = "", inputs: str = "", archive_dir: Path | None = None) -> str:
    """Everything one report's output depends on; ``chained`` is what it
    depends on in other reports (series.chained), ``inputs`` its inputs_key
    when already taken, ``archive_dir`` where its archive index is read
    (default: the site's archive)."""
    index = (archive_dir or site.archive) / report_dir.name / "index.json"
    archive = index.read_text() if index.is_file() else ""
    parts = [inputs or inputs_key(report_dir, listed), code_key(), ",".join(site.formats),
             site.paper, site.base_url, site.title, archive, chained]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def site_key(source_key: str, report_keys: dict[str, str]) -> str:
    """The whole site: site.yml and every report, in order."""
    return hashlib.sha256(json.dumps([source_key, code_key(), sorted(report_keys.items())])
                          .encode()).hexdigest()


@dataclass
class Entry:
    key: str
    charts: str  # fingerprint of what the charts show (see chart_key)
    card: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)  # asdict(Problem)
    # The report's HTML pages, by path in the output, as the link check read
    # them: ids and links (see linkcheck.Page.to_json).
    pages: dict[str, Any] = field(default_factory=dict)
    # The p-values of the tests on round medians and the fingerprint of their data (tests_key):
    # an edit of the prose only does not test again.
    tests: dict[str, Any] = field(default_factory=dict)
    # The chart-fitting rules the first layout of the report's PDF asked for:
    # the next build passes them to render_pdf as its guess.
    pdf_fits: list[str] = field(default_factory=list)
    # Its medians and the step from the report before it, when it is in a series
    # (analyse/series.py): the series pages are made from these alone.
    series: dict[str, Any] = field(default_factory=dict)


def checked_key(source_key: str) -> str:
    """site.yml's text and the code that found it valid: a new release may
    check more strictly, so its first build checks site.yml again."""
    return hashlib.sha256(f"{source_key} {code_key()}".encode()).hexdigest()


@dataclass
class Manifest:
    site_file: str  # checked_key of site.yml as last built (it was valid then)
    site: str
    reports: dict[str, Entry] = field(default_factory=dict)
    listed: Listed = field(default_factory=dict)  # see report_files
    series: dict[str, str] = field(default_factory=dict)  # series id -> key of its pages
    # The key of the site's own pages and, as the link check read them, the
    # index's and 404's ids and links (see index_pages.py).
    index: dict[str, Any] = field(default_factory=dict)

    def checked(self, source_key: str) -> bool:
        """Whether this code found a site.yml with this text valid before."""
        return self.site_file == checked_key(source_key)

    def unchanged(self, slug: str, key: str, output: Path) -> bool:
        entry = self.reports.get(slug)
        return entry is not None and entry.key == key and (output / slug).is_dir()

    def cards(self) -> list[Card]:
        return [Card.from_json(e.card) for e in self.reports.values()]

    def pages(self) -> dict[str, Page]:
        """The pages the manifest knows: of reports, and the site's own when
        they were carried over."""
        known = [*(e.pages for e in self.reports.values()), self.index.get("pages", {})]
        return {rel: Page.from_json(page) for found in known for rel, page in found.items()}

    def keep_pages(self, pages: dict[str, Page]) -> None:
        """Remember each report's pages, and the site's own, for the next
        build's link check (those it knows already are the same)."""
        for rel, page in pages.items():
            folder, inside, _ = rel.partition("/")
            if inside:
                entry = self.reports.get(folder)
                kept = entry.pages if entry is not None else None
            else:
                kept = self.index.get("pages")
            if kept is not None and rel not in kept:
                kept[rel] = page.to_json()

    def dump(self) -> bytes:
        # vars(), not asdict(): every field already holds plain JSON values, and
        # asdict's deep copy of each report's pages was most of a small rebuild.
        # Compact: with an indent, json falls back to its pure-Python encoder,
        # 18 ms against 5 for the 1.1 MB manifest of a 50-report site.
        data = vars(self) | {"reports": {s: vars(e) for s, e in self.reports.items()}}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def stamp(output: Path) -> tuple[int, ...]:
    """What tells the manifest file in ``output`` from any other: its device,
    inode, size and time; () when there is none.  A build replaces the whole
    output, so the next one's manifest is a new file."""
    try:
        found = os.stat(output / MANIFEST)
    except OSError:
        return ()
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def read(output: Path) -> Manifest | None:
    """The manifest of the previous build in ``output``, if it is readable."""
    try:
        data = json.loads((output / MANIFEST).read_text())
        reports = {slug: Entry(**e) for slug, e in data.pop("reports").items()}
        return Manifest(reports=reports, **data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


@dataclass
class Plan:
    """What a build has to do, given the previous build's manifest."""

    up_to_date: bool
    changed: tuple[Path, ...]  # report dirs to load and render
    kept: dict[str, Entry]  # slug -> entry of reports carried over as they are
    keys: dict[str, str] = field(default_factory=dict)  # slug -> report_key, taken once
    listed: Listed = field(default_factory=dict)
    links: series.Links = field(default_factory=series.Links)  # the site's series
    inputs: dict[str, str] = field(default_factory=dict)  # slug -> inputs_key

    @property
    def kept_warnings(self) -> list[Problem]:
        return [Problem(**w) for e in self.kept.values() for w in e.warnings]


def plan(source_key: str, site: Site, previous: Manifest | None) -> Plan:
    names = {d.name for d in site.report_dirs}
    known = {k: v for k, v in previous.listed.items() if k in names} if previous else {}
    inputs = {d.name: inputs_key(d, known) for d in site.report_dirs}
    links = series.links(site, known)
    keys = {d.name: report_key(d, site, known, links.chained(d.name, inputs), inputs[d.name])
            for d in site.report_dirs}
    if previous is not None and previous.site == site_key(source_key, keys):
        return Plan(True, (), dict(previous.reports), keys, known, links)
    changed = tuple(d for d in site.report_dirs if previous is None
                    or not previous.unchanged(d.name, keys[d.name], site.output))
    kept = {d.name: previous.reports[d.name] for d in site.report_dirs
            if previous is not None and d not in changed}
    return Plan(False, changed, kept, keys, known, links, inputs)


def record(source_key: str, plan: Plan, rendered: Sequence[Rendered]) -> Manifest:
    """The manifest of a build: the kept entries and every rendered report;
    :func:`seal` completes it once the archive holds the new snapshots."""
    manifest = Manifest(checked_key(source_key), "", dict(plan.kept), plan.listed)
    for r in rendered:
        manifest.reports[r.slug] = Entry(plan.keys[r.slug], r.charts, asdict(r.card),
                                         [asdict(w) for w in r.warnings],
                                         tests={"key": r.tests[0], "p_values": r.tests[1]},
                                         pdf_fits=list(r.pdf_fits), series=r.series)
    return manifest


def seal(manifest: Manifest, source_key: str, site: Site, plan: Plan,
         rendered: Sequence[Rendered], archive: Path) -> None:
    """The keys of the finished build, read from ``archive`` (where this
    build's snapshots are) once they are added."""
    if "pdf" in site.formats:
        # Taken again after rendering: the new PDF snapshot changed the archive
        # index the report page depends on, and the next build must see it as done.
        for r in rendered:
            report_dir = next(d for d in plan.changed if d.name == r.slug)
            manifest.reports[r.slug].key = report_key(
                report_dir, site, plan.listed, plan.links.chained(r.slug, plan.inputs),
                plan.inputs[r.slug], archive)
    manifest.site = site_key(source_key, {s: e.key for s, e in manifest.reports.items()})
