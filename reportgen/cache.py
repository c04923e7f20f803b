"""Incremental builds: fingerprints of every input, kept beside the output.

A report is rendered again only when its fingerprint changed: the bytes of
the files the loader reads (report.yml and its results), the code and templates that render it, the
site settings it depends on and the archive index its page links to.  The
manifest lives in the output it describes, so deleting output/ simply means a
full build.  Unchanged reports are carried over by hard links, and a build in
which nothing changed stops before importing any renderer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.documents import parse_yaml
from reportgen.errors import InputError, Problem
from reportgen.model import Site

if TYPE_CHECKING:
    from reportgen.analysis import Analysis, Card

MANIFEST = ".reportgen-manifest.json"
_PACKAGE = Path(__file__).resolve().parent
_TEMPLATES = _PACKAGE.parent / "templates"


def digest_files(files: list[Path], root: Path, *extra: str) -> str:
    """sha256 over file names (relative to ``root``), contents and extra strings."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
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


def report_files(report_dir: Path) -> list[Path]:
    """The files the loader reads: report.yml and its results files, never a
    file a link leads to outside the report directory (the loader refuses those)."""
    root = report_dir.resolve()
    if not (report_dir / "report.yml").resolve().is_relative_to(root):
        return []
    names: object = None
    try:
        data = parse_yaml((report_dir / "report.yml").read_text(encoding="utf-8"), "",
                          printable=False).data
        names = data.get("results") if isinstance(data, dict) else None
    except (OSError, UnicodeDecodeError, InputError):
        pass  # the loader will say what is wrong
    listed = ([report_dir / n for n in names if isinstance(n, str)] if isinstance(names, list)
              else sorted((report_dir / "results").glob("*.json")))
    return [p for p in [report_dir / "report.yml", *listed]
            if p.resolve().is_relative_to(root) and p.is_file()]


def report_key(report_dir: Path, site: Site) -> str:
    """Everything one report's output depends on."""
    index = site.archive / report_dir.name / "index.json"
    archive = index.read_text() if index.is_file() else ""
    return digest_files(report_files(report_dir), report_dir, code_key(), ",".join(site.formats),
                        site.paper, site.base_url, site.title, archive)


def site_key(source_key: str, report_keys: dict[str, str]) -> str:
    """The whole site: site.yml and every report, in order."""
    return hashlib.sha256(json.dumps([source_key, code_key(), sorted(report_keys.items())])
                          .encode()).hexdigest()


@dataclass
class Entry:
    key: str
    charts: str  # fingerprint of what the charts show (see render.chart_key)
    card: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)  # asdict(Problem)


@dataclass
class Manifest:
    site_file: str  # sha256 of site.yml as last built (it was valid then)
    site: str
    reports: dict[str, Entry] = field(default_factory=dict)

    def unchanged(self, slug: str, key: str, output: Path) -> bool:
        entry = self.reports.get(slug)
        return entry is not None and entry.key == key and (output / slug).is_dir()

    def cards(self) -> list[Card]:
        from reportgen.analysis import Card

        return [Card.from_json(e.card) for e in self.reports.values()]

    def dump(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()


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

    @property
    def kept_warnings(self) -> list[Problem]:
        return [Problem(**w) for e in self.kept.values() for w in e.warnings]


def plan(source_key: str, site: Site, previous: Manifest | None) -> Plan:
    keys = {d.name: report_key(d, site) for d in site.report_dirs}
    if previous is not None and previous.site == site_key(source_key, keys):
        return Plan(True, (), dict(previous.reports))
    changed = tuple(d for d in site.report_dirs if previous is None
                    or not previous.unchanged(d.name, keys[d.name], site.output))
    kept = {d.name: previous.reports[d.name] for d in site.report_dirs
            if previous is not None and d not in changed}
    return Plan(False, changed, kept)


def record(source_key: str, site: Site, kept: dict[str, Entry],
           rendered: list[tuple[Analysis, list[Problem], str]]) -> Manifest:
    """The manifest of a finished build: kept entries plus (analysis, warnings,
    chart key) of every rendered report."""
    from reportgen.analysis import card

    manifest = Manifest(source_key, "", dict(kept))
    for analysis, warnings, charts in rendered:
        manifest.reports[analysis.report.slug] = Entry(
            "", charts, asdict(card(analysis)), [asdict(w) for w in warnings])
    # Keys are taken after rendering: adding a PDF snapshot changes the archive
    # index the report page depends on, and the next build must see it as done.
    for d in site.report_dirs:
        manifest.reports[d.name].key = report_key(d, site)
    manifest.site = site_key(source_key, {s: e.key for s, e in manifest.reports.items()})
    return manifest
