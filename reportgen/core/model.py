"""The report as plain data: what the loader produces and every renderer reads.

Nothing here touches files; positions are kept only as ``Source`` values so a
later stage can still point at the author's line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Better = Literal["lower", "higher"]
Status = Literal["ok", "failed", "timeout", "skipped"]
TIERS = ("negligible", "moderate", "severe")


@dataclass(frozen=True)
class Source:
    """Where a piece of author text starts, for messages found after loading."""

    path: str
    line: int
    col: int


@dataclass(frozen=True)
class Metric:
    """One metric as measured in one environment."""

    id: str
    name: str
    unit: str
    better: Better
    samples: tuple[float, ...]
    status: Status = "ok"
    tool: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    rounds: tuple[int, ...] = ()  # the round of each sample; () means all from one round

    @property
    def round_numbers(self) -> tuple[int, ...]:
        """The round of each sample, parallel to ``samples`` (1 for a one-round file)."""
        return self.rounds or (1,) * len(self.samples)

    @property
    def usable(self) -> bool:
        return self.status == "ok" and bool(self.samples)


@dataclass(frozen=True)
class Round:
    """One run of the probe suite (its own warm-up, fresh processes)."""

    number: int
    started_at: str  # ISO 8601 UTC; "" when a version 1 file did not say


@dataclass(frozen=True)
class Environment:
    """One results file: an environment and what was measured there."""

    label: str
    description: str
    collected_at: str
    system: dict[str, Any]
    metrics: dict[str, Metric]
    file_name: str  # the results file, relative to the report dir: results/guest.json
    probe_version: str = ""
    rounds: tuple[Round, ...] = ()
    profile: str = ""
    file_names: tuple[str, ...] = ()  # every results file pooled into this environment


@dataclass(frozen=True)
class SectionMetric:
    id: str
    short: str  # the short name used when a section's label is composed


@dataclass(frozen=True)
class Text:
    """Author Markdown with placeholders, and where it starts."""

    markdown: str
    source: Source


@dataclass(frozen=True)
class Section:
    title: str
    metrics: tuple[SectionMetric, ...]
    analysis: Text
    label: Text | None = None  # author override of the computed badge


@dataclass(frozen=True)
class ConclusionItem:
    name: str
    metrics: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Thresholds:
    """Comparison settings; defaults follow docs/formats.md."""

    moderate: float = 1.15  # slowdown from which a metric is a moderate cost
    severe: float = 10.0  # ... and a severe one
    noise: float = 0.03  # a relative change smaller than this is "same"
    multiplier: float = 3.0  # slowdowns from here on are written "~Nx"


@dataclass(frozen=True)
class SystemRow:
    key: str
    value: Text


@dataclass(frozen=True)
class InputFile:
    """A file the report was built from, carried so outputs can include it."""

    name: str  # path relative to the report dir, e.g. results/guest.json
    content: bytes


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    date: dt.date
    author: str
    intro: Text
    baseline: str
    environments: tuple[Environment, ...]
    system: tuple[SystemRow, ...]
    sections: tuple[Section, ...]
    conclusions: tuple[ConclusionItem, ...]
    tier_headings: dict[str, str]
    summary: Text
    thresholds: Thresholds = Thresholds()
    keywords: tuple[str, ...] = ()
    inputs: tuple[InputFile, ...] = ()
    noise: tuple[Environment, Environment] | None = None  # an A/A run: one environment twice
    follows: str = ""  # report.yml's `follows:`: the earlier report, as the author named it

    def environment(self, label: str) -> Environment:
        return next(e for e in self.environments if e.label == label)

    @property
    def others(self) -> tuple[Environment, ...]:
        """The environments compared against the baseline."""
        return tuple(e for e in self.environments if e.label != self.baseline)

    def data_files(self) -> list[tuple[str, str]]:
        """(name under data/, results file) for every results file of the report:
        ``<label>.json``, or ``<label>.<n>.json`` for the n-th of the files pooled
        into one environment (labels have no dots, so the names cannot clash).
        Every page links these very names."""
        copies = []
        for env in self.environments:
            names = env.file_names or (env.file_name,)
            if len(names) == 1:
                copies.append((f"{env.label}.json", names[0]))
            else:
                copies.extend((f"{env.label}.{n}.json", name)
                              for n, name in enumerate(names, 1))
        return copies


@dataclass(frozen=True)
class SeriesSpec:
    """A series site.yml lists: its title and its reports' slugs, in order."""

    title: str
    reports: tuple[str, ...]


@dataclass(frozen=True)
class Site:
    """site.yml: which report directories to build, how and where."""

    title: str
    base_url: str
    report_dirs: tuple[Path, ...]
    formats: tuple[str, ...]
    output: Path
    archive: Path
    root: Path  # the directory holding site.yml
    source_key: str = ""  # sha256 of site.yml's text, to recognise it next time
    paper: str = "A4"
    series: tuple[SeriesSpec, ...] = ()  # site.yml's `series:`
