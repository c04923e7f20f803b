"""`reportgen build`: the pipeline as a short script.

check that the output and archive can be written -> plan what changed ->
carry unchanged reports over -> load, check, analyse and render what changed
into a staging dir (in parallel, each report in one worker) -> index, link
check -> only then, as the last steps, add the PDF snapshots to the archive
and swap the staging dir in as the new output; a failure at either undoes the
other.  Every stage lives in its own module; this one only says in which
order they run (docs/site.md, "The order of a build").
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.check import checks
from reportgen.core import errors
from reportgen.core.errors import InputError, Problem, printable
from reportgen.core.model import Site
from reportgen.read import site_yml
from reportgen.site import archive, cache, index_pages, linkcheck, output, series_pages

if TYPE_CHECKING:
    from reportgen.analyse.analysis import Analysis
    from reportgen.site.reports import Pool

Log = Callable[[str], None]


def stderr(message: str) -> None:
    print(printable(message), file=sys.stderr, flush=True)


@dataclass
class Result:
    output: Path
    rendered: list[str] = field(default_factory=list)  # slugs rendered by this build
    warnings: list[Problem] = field(default_factory=list)


def check(site_file: Path) -> tuple[list[Analysis], list[Problem]]:
    """Load and analyse every report; raise every input problem at once."""
    site = site_yml.load_site(site_file)
    analysed = _analyse_all(site.report_dirs)
    return [a for a, _ in analysed], [w for _, ws in analysed for w in ws]


def build(site_file: Path, *, output_dir: Path | None = None,
          formats: tuple[str, ...] | None = None, archive_dir: Path | None = None,
          strict: bool = False, log: Log = stderr, pool: Pool | None = None,
          verbose: bool = False, known: Collection[Problem] = ()) -> Result:
    """Build the site; ``pool`` holds render workers kept between builds (serve).

    Warnings are printed one line per kind (every one with ``verbose``),
    leaving out those in ``known`` (serve: what its previous build printed).
    """
    started = time.monotonic()
    out = site_yml.output_dir(site_file, output_dir)
    first = cache.stamp(out), cache.read(out)  # stamped first: a later change shows
    previous = first[1]
    site = site_yml.load_site(site_file, output_dir, formats, archive_dir,
                              validated=previous.checked if previous else None)
    output.check_output_dir(site.output, site, site_file)
    output.check_parent(site.output)
    with output.locked(site.output, log):
        return _build(site, Warn(log, strict, verbose, known), log, started, pool,
                      first if out == site.output else None)


@dataclass(frozen=True)
class Warn:
    """How a build prints its warnings; with --strict, those it escalates are
    errors, raised once the warnings that stay warnings (unstable samples,
    too few rounds) are printed."""

    log: Log
    strict: bool = False
    verbose: bool = False
    known: Collection[Problem] = ()

    def __call__(self, warnings: list[Problem]) -> None:
        failing = Problem.escalated(warnings) if self.strict else []
        shown = errors.new_since([w for w in warnings if w not in failing], self.known)
        for line in errors.summary(shown, self.verbose):
            self.log(line)
        if failing:
            raise InputError(Problem.as_errors(failing))


def _build(site: Site, warn: Warn, log: Log, started: float, pool: Pool | None,
           first: tuple[tuple[int, ...], cache.Manifest | None] | None) -> Result:
    output.remove_stale(site.output)  # under the lock: left by killed builds
    # Read again if a build we waited for changed it since ``first``
    # (its stamp and what was read then).
    if first is not None and first[0] and cache.stamp(site.output) == first[0]:
        previous = first[1]
    else:
        previous = cache.read(site.output)
    plan = cache.plan(site.source_key, site, previous)
    if plan.up_to_date:
        warn(plan.kept_warnings)
        log(f"nothing changed: {errors.display(site.output)} is up to date")
        return Result(site.output, [], plan.kept_warnings)

    if warn.strict and Problem.escalated(plan.kept_warnings):
        warn(plan.kept_warnings)  # fails before rendering anything
    output.check_replaceable(site.output)
    if "pdf" in site.formats and not site.archive.is_relative_to(site.output):
        output.check_archive(site.archive, (d.name for d in plan.changed))
    from reportgen.site import reports as render  # matplotlib and WeasyPrint: only when rendering

    with output.staging(site.output, carry=plan.kept) as stage:
        render.assets(stage)
        rendered = render.reports(plan.changed, site, stage, previous, pool, plan.links)
        warnings = [w for r in rendered for w in r.warnings]
        # kept and new reports' warnings summed up together; with --strict,
        # before anything is called built
        warn(plan.kept_warnings + warnings)
        for r in rendered:
            log(f"built {r.slug} ({', '.join(site.formats)}) in {r.seconds:.1f} s")
        snapshots = render.snapshots(rendered, site, stage)
        # An archive inside the output gets its snapshots in the new output's
        # copy (hard links: the live one is untouched) and goes live with it.
        staged = output.carry_over(site.archive, site.output, stage)
        if staged is not None:
            archive.add_all(staged, snapshots)
        manifest = cache.record(site.source_key, plan, rendered)
        # The series pages go into the staging directory like the index,
        # so the link check reads them and they go live with the swap.
        index_pages.write(manifest, site, stage, staged or site.archive,
                          series_pages.pages(manifest, plan.links, site, stage, previous),
                          previous)
        pages = linkcheck.pages(stage, manifest.pages())  # only new pages are read
        broken = linkcheck.check(stage, (site.archive,), pages)
        manifest.keep_pages(pages)
        warn(broken)
        # Everything that can fail has run.  Last, an archive outside the
        # output gets its snapshots and the new output replaces the old; if
        # either fails, the snapshots are taken back and the old output stays.
        with archive.adding(site.archive, snapshots if staged is None else []):
            cache.seal(manifest, site.source_key, site, plan, rendered, staged or site.archive)
            output.write(stage / cache.MANIFEST, manifest.dump())
            old = output.publish(stage, site.output)
        output.retire(old, site.output)
    log(f"rendered {len(rendered)} of {len(site.report_dirs)} report(s) into "
        f"{errors.display(site.output)} in {time.monotonic() - started:.1f} s")
    return Result(site.output, [r.slug for r in rendered],
                  plan.kept_warnings + warnings + broken)


def _analyse_all(report_dirs: tuple[Path, ...]) -> list[tuple[Analysis, list[Problem]]]:
    """Each report's analysis and warnings; every problem of every report at once."""
    problems: list[Problem] = []
    analysed: list[tuple[Analysis, list[Problem]]] = []
    for report_dir in report_dirs:
        try:
            analysed.append(checks.analysed(report_dir, reports=report_dirs))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return analysed
