"""Small model builders for unit tests (no files involved)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reportgen.core.model import (
    Better,
    ConclusionItem,
    Environment,
    Metric,
    Report,
    Section,
    SectionMetric,
    Source,
    Text,
    Thresholds,
)

NOWHERE = Source("report.yml", 1, 1)


def text(markdown: str = "") -> Text:
    return Text(markdown, NOWHERE)


def metric(metric_id: str, samples: Sequence[float], better: Better = "lower",
           unit: str = "ns", **extra: object) -> Metric:
    return Metric(metric_id, metric_id, unit, better, tuple(samples), **extra)  # type: ignore[arg-type]


def in_rounds(metric_id: str, samples: Sequence[float], better: Better = "lower",
              unit: str = "ns") -> Metric:
    """A metric with one sample per round: five samples or more make enough
    rounds for a verdict other than inconclusive."""
    return metric(metric_id, samples, better, unit, rounds=tuple(range(1, len(samples) + 1)))


def by_round(metric_id: str, rounds: Sequence[Sequence[float]], better: Better = "lower",
             unit: str = "ns") -> Metric:
    """A metric from its samples round by round: ``[[9.0, 9.1], [9.5, 9.6]]``
    is two rounds of two samples."""
    return metric(metric_id, [x for r in rounds for x in r], better, unit,
                  rounds=tuple(n for n, r in enumerate(rounds, start=1) for _ in r))


def environment(label: str, *metrics: Metric, system: dict[str, object] | None = None) -> Environment:
    return Environment(label, f"{label} environment", "2026-01-01T00:00:00Z", system or {},
                       {m.id: m for m in metrics}, f"results/{label}.json")


DEFAULTS = Thresholds()


def report(*envs: Environment, sections: Sequence[Section] = (),
           conclusions: Sequence[ConclusionItem] = (), thresholds: Thresholds = DEFAULTS,
           baseline: str = "native") -> Report:
    if not sections:
        ids = sorted(envs[0].metrics)
        sections = [Section(i, (SectionMetric(i, i),), text()) for i in ids]
    return Report(slug="t", title="T", date=dt.date(2026, 1, 2), author="A", intro=text(),
                  baseline=baseline, environments=tuple(envs), system=(),
                  sections=tuple(sections), conclusions=tuple(conclusions), tier_headings={},
                  summary=text(), thresholds=thresholds)
