"""site.yml: which reports make the site, its formats and where output goes."""

from __future__ import annotations

import glob
import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from reportgen.core.documents import (
    Document,
    KeyPath,
    parse_yaml,
    read_document,
)
from reportgen.core.errors import CONTROL, InputError, Problem, display
from reportgen.core.model import (
    SeriesSpec,
    Site,
)
from reportgen.core.paths import Below
from reportgen.core.placeholders import hint
from reportgen.read import validate

FORMATS = ("html", "pdf", "txt", "md")


def load_site(site_file: Path, output: Path | None = None,
              formats: tuple[str, ...] | None = None, archive: Path | None = None, *,
              validated: Callable[[str], bool] | None = None) -> Site:
    """Read site.yml; ``output``, ``formats`` and ``archive`` override what it says.

    ``validated`` says whether a site.yml with the given ``source_key`` was
    already found valid by this very code (the previous build's); then the
    schema check (and its import) is skipped.
    """
    doc = read_document(site_file, parse_yaml)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "expected a mapping of site settings")])
    source_key = hashlib.sha256("\n".join(doc.lines).encode()).hexdigest()
    if validated is None or not validated(source_key):
        found = validate.problems(doc, "site")
        if found:
            raise InputError(found)
    data, root = doc.data, site_file.resolve().parent
    out = (output if output is not None else root / data.get("output", "output")).resolve()
    archive = (archive.resolve() if archive is not None
               else (root / data["archive"]).resolve() if "archive" in data
               else out / "archive")
    patterns = data["reports"] if isinstance(data["reports"], list) else [data["reports"]]
    below = Below(root, root)  # resolves each report directory with an lstat or two
    report_dirs: list[Path] = []
    seen: set[Path] = set()
    problems: list[Problem] = []
    for index, pattern in enumerate(patterns):
        where: KeyPath = ("reports", index) if isinstance(data["reports"], list) else ("reports",)
        matches = sorted(m for m in map(Path, glob.glob(str(root / pattern))) if m.is_dir())
        if not matches:
            problems.append(doc.problem(where, f"no report directory matches '{pattern}'"))
        for match in matches:
            real = below.resolve(match)
            why = _not_a_report_dir(match, real, root)
            if real in (out, archive):
                continue  # `reports/*` matching an archive or output kept among the reports
            if why:
                problems.append(doc.problem(where, f"'{display(match)}' {why}"))
            elif match not in seen:
                report_dirs.append(match)
                seen.add(match)
    slugs = [d.name for d in report_dirs]
    for slug in sorted(s for s, n in Counter(slugs).items() if n > 1):
        problems.append(doc.problem(("reports",), f"two report directories are named '{slug}'"))
    series = _series(doc, slugs, problems)
    if problems:
        raise InputError(problems)
    return Site(
        title=data.get("title", "Benchmark reports"),
        base_url=data.get("base_url", ""),
        report_dirs=tuple(report_dirs),
        formats=formats if formats is not None else tuple(data.get("formats", FORMATS)),
        output=out,
        archive=archive,
        root=root,
        source_key=source_key,
        paper=data.get("paper", "A4"),
        series=series,
    )


def _series(doc: Document, slugs: list[str], problems: list[Problem]) -> tuple[SeriesSpec, ...]:
    """site.yml's ``series:``, each name a report of the site, each report in one series."""
    found = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(doc.data.get("series", [])):
        for j, slug in enumerate(raw["reports"]):
            if slug not in slugs:
                problems.append(doc.problem(("series", i, "reports", j),
                                            f"series: no report '{slug}' in this site"
                                            f"{hint(slug, slugs)}"))
            elif slug in seen:
                problems.append(doc.problem(("series", i, "reports", j),
                                            f"series: report '{slug}' is already in series "
                                            f"{seen[slug] + 1}; a report is in one series"))
            seen.setdefault(slug, i)
        found.append(SeriesSpec(raw["title"], tuple(raw["reports"])))
    return tuple(found)


def _not_a_report_dir(match: Path, real: Path, root: Path) -> str:
    """Why a directory the reports pattern matched (``real``: it resolved)
    cannot be read as a report."""
    if not real.is_relative_to(root):
        how = "is a link to a directory" if match.is_symlink() else "is a directory"
        return f"{how} outside the project; refusing to read it"
    if CONTROL.search(match.name):
        return "has a name with control characters or bytes that are not UTF-8"
    return ""


def output_dir(site_file: Path, output: Path | None) -> Path:
    """Where the build output goes, read cheaply (before validation)."""
    if output is not None:
        return output.resolve()
    try:
        data = parse_yaml(site_file.read_text(encoding="utf-8"), str(site_file)).data
    except (OSError, UnicodeDecodeError, InputError):
        data = None
    name = data.get("output") if isinstance(data, dict) else None
    return (site_file.resolve().parent / (name if isinstance(name, str) else "output")).resolve()
