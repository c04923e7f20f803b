"""`reportgen build`: the pipeline as a short script.

load -> analyse what changed -> render it into a staging dir (in parallel)
-> carry unchanged reports over -> index, link check, manifest -> swap the
staging dir in as the new output.  Every stage lives in its own module; this
one only says in which order they run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen import cache, load, output
from reportgen.errors import InputError, Problem
from reportgen.model import Site

if TYPE_CHECKING:
    from reportgen.analysis import Analysis

Log = Callable[[str], None]


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Result:
    output: Path
    rendered: list[str] = field(default_factory=list)  # slugs rendered by this build
    warnings: list[Problem] = field(default_factory=list)


def check(site_file: Path) -> tuple[list[Analysis], list[Problem]]:
    """Load and analyse every report; raise every input problem at once."""
    site = load.load_site(site_file)
    return _analyse_all(site.report_dirs)


def build(site_file: Path, *, output_dir: Path | None = None,
          formats: tuple[str, ...] | None = None, strict: bool = False,
          log: Log = stderr) -> Result:
    started = time.monotonic()
    previous = cache.read(load.output_dir(site_file, output_dir))
    site = load.load_site(site_file, output_dir, formats,
                          validated=previous.site_file if previous else "")
    output.check_output_dir(site.output, site, site_file)
    keys = {d.name: cache.report_key(d, site) for d in site.report_dirs}
    site_key = cache.site_key(load.site_text_key(site_file), keys)
    if previous is not None and previous.site == site_key:
        warnings = [Problem(**w) for e in previous.reports.values() for w in e.warnings]
        _report(warnings, strict, log)
        log(f"nothing changed: {load.display(site.output)} is up to date")
        return Result(site.output, [], warnings)

    changed = [d for d in site.report_dirs
               if previous is None or not previous.unchanged(d.name, keys[d.name], site.output)]
    analyses, warnings = _analyse_all(tuple(changed))
    kept = {slug: e for slug, e in (previous.reports.items() if previous else ())
            if slug in keys and all(d.name != slug for d in changed)}
    warnings += [Problem(**w) for e in kept.values() for w in e.warnings]
    _report(warnings, strict, log)

    from reportgen import linkcheck, render  # matplotlib and WeasyPrint: only when rendering
    from reportgen.analysis import Card, card

    with output.staging(site.output) as stage:
        render.assets(stage)
        for slug in kept:
            output.link_tree(site.output / slug, stage / slug)
        charts = render.reports(analyses, site, stage, previous, log)
        cards = [card(a) for a in analyses] + [Card.from_json(e.card) for e in kept.values()]
        render.site(cards, site, stage)
        output.carry_over(site.archive, site.output, stage)
        broken = linkcheck.check(stage, (site.archive,))
        _report(broken, strict, log)
        manifest = cache.Manifest(load.site_text_key(site_file), "", kept)
        for a in analyses:
            slug = a.report.slug
            mine = [asdict(w) for w in warnings if w.path.startswith(_report_path(site, slug))]
            manifest.reports[slug] = cache.Entry("", charts[slug], asdict(card(a)), mine)
        # Keys are taken after rendering: adding a PDF snapshot changes the archive
        # index the report page depends on, and the next build must see it as done.
        for d in site.report_dirs:
            manifest.reports[d.name].key = cache.report_key(d, site)
        manifest.site = cache.site_key(manifest.site_file,
                                       {s: e.key for s, e in manifest.reports.items()})
        output.write(stage / cache.MANIFEST, manifest.dump())
        output.publish(stage, site.output)
    log(f"rendered {len(analyses)} of {len(keys)} report(s) into {load.display(site.output)} "
        f"in {time.monotonic() - started:.1f} s")
    return Result(site.output, [a.report.slug for a in analyses], warnings + broken)


def _report(warnings: list[Problem], strict: bool, log: Log) -> None:
    if strict and warnings:
        raise InputError(warnings)
    for warning in warnings:
        log(str(warning))


def _report_path(site: Site, slug: str) -> str:
    return load.display(next(d for d in site.report_dirs if d.name == slug)) + "/"


def _analyse_all(report_dirs: tuple[Path, ...]) -> tuple[list[Analysis], list[Problem]]:
    from reportgen.analysis import analyse

    problems: list[Problem] = []
    warnings: list[Problem] = []
    analyses: list[Analysis] = []
    for report_dir in report_dirs:
        try:
            loaded = load.load_report(report_dir)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        warnings.extend(loaded.warnings)
        analyses.append(analyse(loaded.report))
    if problems:
        raise InputError(problems)
    return analyses, warnings
