"""Checks stage: what the report's parts must agree on, once each file is read.

The loader only reads and validates each file on its own.  This stage looks
across them: the metrics and placeholders report.yml names must exist in the
results, the environments must have been measured alike to be compared, and
numbers typed by hand must match the data.  Errors are raised at once as an
:class:`~reportgen.core.errors.InputError`; warnings are returned.

This module holds the stage's entry points, :func:`analysed` and
:func:`check`; each concern is a module of its own: references (report.yml
into the results), links (in the prose), comparable (units, comparability,
threads), figures (numbers typed by hand) and rounds (too few for a verdict).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.check.comparable import check_comparable, check_threads, check_units
from reportgen.check.figures import prose
from reportgen.check.references import check_references
from reportgen.check.rounds import check_rounds
from reportgen.core.errors import InputError, Problem
from reportgen.core.model import Report
from reportgen.read import follows
from reportgen.read.report_yml import Loaded, load_report

if TYPE_CHECKING:
    from reportgen.analyse.analysis import Analysis


def analysed(report_dir: Path, known: Callable[[Report], Mapping[str, float | None]] | None = None,
             reports: Sequence[Path] = (), names: follows.Named = follows.named
             ) -> tuple[Analysis, list[Problem]]:
    """One report loaded, checked and analysed, with every warning about it:
    the load stage's, the cross-file checks' and the hand-typed figures'.
    ``known`` gives the loaded report's p-values from an earlier build, if
    any (see analysis.analyse); ``reports`` are the site's report directories,
    among which ``follows:`` is looked up (``names``: each one's ``follows:``,
    see follows.earlier).  Raises InputError with every problem."""
    from reportgen.analyse.analysis import analyse  # numpy and scipy: only once a report is loaded

    loaded = load_report(report_dir)
    earlier = follows.earlier(loaded, reports, names)
    before = earlier.report if earlier else None
    warnings = loaded.warnings + check(loaded, before)
    analysis = analyse(loaded.report, known(loaded.report) if known else None, before)
    return analysis, warnings + prose(loaded, analysis)


def check(loaded: Loaded, earlier: Report | None = None) -> list[Problem]:
    """Every cross-file check of one loaded report (``earlier``: the report it
    follows): raise the errors, return the warnings."""
    doc, report = loaded.document, loaded.report
    problems = check_references(doc, report, earlier) + check_units(loaded)
    if problems:
        raise InputError(problems)
    return check_comparable(doc, report) + check_threads(loaded) + check_rounds(doc, report)
