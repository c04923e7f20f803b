"""Incremental builds: fingerprints of every input, kept beside the output.

A report is rendered again only when its fingerprint changed: the bytes of
every file in its directory, the code and templates that render it, the
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
from typing import Any

from reportgen.model import Site

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


def report_key(report_dir: Path, site: Site) -> str:
    """Everything one report's output depends on."""
    index = site.archive / report_dir.name / "index.json"
    archive = index.read_text() if index.is_file() else ""
    return digest_files(_files(report_dir), report_dir, code_key(), ",".join(site.formats),
                        site.paper, site.base_url, site.title, archive)


def site_key(site_text: str, report_keys: dict[str, str]) -> str:
    """The whole site: site.yml and every report, in order."""
    return hashlib.sha256(json.dumps([site_text, code_key(), sorted(report_keys.items())])
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


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
