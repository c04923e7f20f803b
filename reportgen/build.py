"""`reportgen build`: the pipeline as a short script.

load -> analyse -> render each report into a staging dir -> archive the PDFs
-> swap the staging dir in as the new output.  Every stage lives in its own
module; this one only says in which order they run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reportgen import load, output
from reportgen.analysis import Analysis, analyse
from reportgen.errors import InputError, Problem

Log = Callable[[str], None]


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Result:
    output: Path
    reports: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def check(site_file: Path) -> tuple[list[Analysis], list[Problem]]:
    """Load and analyse every report; raise every input problem at once."""
    site = load.load_site(site_file)
    return _analyse_all(site.report_dirs)


def build(site_file: Path, *, output_dir: Path | None = None,
          formats: tuple[str, ...] | None = None, strict: bool = False,
          log: Log = stderr) -> Result:
    from reportgen import render  # matplotlib and WeasyPrint: only when rendering

    started = time.monotonic()
    site = load.load_site(site_file, output_dir, formats)
    output.check_output_dir(site.output, site.root, site_file)
    analyses, warnings = _analyse_all(site.report_dirs)
    for warning in warnings:
        log(str(warning))
    if strict and warnings:
        raise InputError(warnings)
    with output.staging(site.output) as stage:
        render.assets(stage)
        for analysis in analyses:
            began = time.monotonic()
            render.report(analysis, site, stage)
            log(f"built {analysis.report.slug} ({', '.join(site.formats)}) "
                f"in {time.monotonic() - began:.1f} s")
        render.site(analyses, site, stage)
        output.publish(stage, site.output, keep=site.archive)
    log(f"wrote {len(analyses)} report(s) to {load.display(site.output)} "
        f"in {time.monotonic() - started:.1f} s")
    return Result(site.output, [a.report.slug for a in analyses], warnings)


def _analyse_all(report_dirs: tuple[Path, ...]) -> tuple[list[Analysis], list[Problem]]:
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
