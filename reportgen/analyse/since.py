"""Since: a report against the earlier report it follows (``follows:``).

For every environment label both reports have, each metric the report's
sections show is compared now against then by the comparison rules of a
report (rounds, bootstrap interval, rank test with the Benjamini-Hochberg
adjustment over the environment's metrics, noise band, comparability), but
without the drift rule: the two reports were always measured one after the
other, and the change over that time is what is asked about.  Beside it, how
each slowdown against the shared baseline moved.  No I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from reportgen.analyse import compare, stats
from reportgen.analyse.comparability import incomparable
from reportgen.analyse.compare import Comparison
from reportgen.core import figures, units
from reportgen.core.model import Environment, Metric, Report, Thresholds
from reportgen.core.placeholders import Ref, Scope


@dataclass(frozen=True)
class SinceRow:
    """One metric of one environment, now against then."""

    env: str
    metric_id: str
    name: str
    then: float  # the earlier report's median, in the report's unit
    now: float
    comparison: Comparison  # slowdown > 1: worse now; its label is the since label

    @property
    def words(self) -> str:
        """``same``, ``worse (+8%)``, ``inconclusive (p = 0.42)``, ``not comparable (...)``."""
        c = self.comparison
        if c.verdict in ("worse", "better"):
            return f"{c.verdict} ({c.label})"
        word = compare.NOT_COMPARABLE_LABEL if c.verdict == "not-comparable" else c.verdict
        return f"{word} ({c.reason})" if c.reason else word

    @property
    def text(self) -> str:
        """``guest: getpid() latency 191 ns -> 182 ns, same``."""
        return (f"{self.env}: {self.name} {figures.quantity(self.then, self.comparison.unit)} -> "
                f"{figures.quantity(self.now, self.comparison.unit)}, {self.words}")

    @property
    def evidence(self) -> str:
        """``now/then 0.953x (95% interval 0.941x to 0.966x, p = 0.002)``; "" when not comparable."""
        c = self.comparison
        if c.verdict == "not-comparable":
            return ""
        return (f"now/then {figures.ratio(c.slowdown)} (95% interval "
                f"{figures.interval(c.interval) or 'n/a'}, {figures.p_is(c.p_value)})")


@dataclass(frozen=True)
class Moved:
    """How one slowdown against the baseline moved between the two reports."""

    env: str
    metric_id: str
    name: str
    then: float | None  # None when there was none (not measured, or not comparable)
    now: float | None

    @property
    def then_text(self) -> str:
        return "n/a" if self.then is None else figures.ratio(self.then)

    @property
    def now_text(self) -> str:
        return "n/a" if self.now is None else figures.ratio(self.now)

    @property
    def text(self) -> str:
        """``guest: fork()+wait latency 65.8x -> 41.2x``."""
        return f"{self.env}: {self.name} {self.then_text} -> {self.now_text}"


@dataclass(frozen=True)
class Since:
    slug: str
    title: str
    date: dt.date
    baseline: str  # the baseline both reports share; "" when they differ
    rows: tuple[SinceRow, ...]
    moved: tuple[Moved, ...]

    @property
    def heading(self) -> str:
        return f"Since {self.title} ({self.date.isoformat()})"

    def row(self, metric_id: str, env: str) -> SinceRow:
        return next(r for r in self.rows if r.metric_id == metric_id and r.env == env)


def since_part(now: Report, then: Report, bands: Mapping[str, float],
               table: Mapping[tuple[str, str], Comparison]) -> Since:
    """``now`` (harmonised to its baseline's units) against ``then``;
    ``bands`` are now's noise bands by metric, ``table`` now's comparisons
    with its baseline."""
    then = units.harmonise(then)
    shown = list(dict.fromkeys(m.id for s in now.sections for m in s.metrics))
    # every metric both have, as within a report: shown ones first, in their order
    shown += sorted({m for e in now.environments for m in e.metrics} - set(shown))
    rows: list[SinceRow] = []
    for env in now.environments:
        old = next((e for e in then.environments if e.label == env.label), None)
        if old is not None:
            rows += _rows(now, _named(old, then.slug), _named(env, now.slug), shown, bands)
    shared = now.baseline if now.baseline == then.baseline else ""
    return Since(then.slug, then.title, then.date, shared, tuple(rows),
                 _moved(now, then, shown, table) if shared else ())


def _named(env: Environment, slug: str) -> Environment:
    """``env`` with its files named by report, so a reason tells the two apart."""
    names = env.file_names or (env.file_name,)
    return dataclasses.replace(env, file_name=f"{slug}/{env.file_name}",
                               file_names=tuple(f"{slug}/{n}" for n in names))


def _rows(now: Report, old: Environment, env: Environment, shown: list[str],
          bands: Mapping[str, float]) -> list[SinceRow]:
    pairs = {m: (_in_unit(old.metrics[m], env.metrics[m].unit), env.metrics[m]) for m in shown
             if m in old.metrics and m in env.metrics and old.metrics[m].usable
             and env.metrics[m].usable}
    reasons = {m: incomparable(old, env, m) for m in pairs}
    p_values = stats.adjusted_p_values({m: stats.p_value(*pairs[m]) for m in pairs
                                        if not reasons[m]})
    rows = []
    for m, (a, b) in pairs.items():
        c = (compare.not_comparable(a, b, env.label, reasons[m]) if reasons[m]
             else compare.compare(a, b, env.label, now.thresholds, noise=bands.get(m),
                                  p=p_values[m]))
        c = dataclasses.replace(c, label=label(c, now.thresholds))
        rows.append(SinceRow(env.label, m, b.name, c.base_median, c.median, c))
    return rows


def _in_unit(metric: Metric, unit: str) -> Metric:
    """``metric`` converted into ``unit`` when that is a unit of its family."""
    scale = units.factor(metric.unit, unit)
    if scale is None or metric.unit == unit:
        return metric
    return dataclasses.replace(metric, unit=unit, samples=tuple(x * scale for x in metric.samples))


def label(c: Comparison, t: Thresholds) -> str:
    """The since badge: ``same``, ``?``, ``+8%``, ``-36%``, ``~4x worse``, ``~3x better``."""
    if c.verdict == "not-comparable":
        return compare.NOT_COMPARABLE_LABEL
    if c.verdict in ("same", "inconclusive"):
        return compare.label(c.verdict, c.slowdown, c.change, c.env, t)
    if c.slowdown >= t.multiplier:
        return f"~{round(c.slowdown)}x worse"
    if 1 / c.slowdown >= t.multiplier:
        return f"~{round(1 / c.slowdown)}x better"
    return f"{round(c.change * 100):+d}%"


def _moved(now: Report, then: Report, shown: list[str],
           table: Mapping[tuple[str, str], Comparison]) -> tuple[Moved, ...]:
    moved = []
    for env in now.others:
        if env.label == then.baseline or env.label not in {e.label for e in then.environments}:
            continue
        for m in shown:
            c = table.get((m, env.label))
            after = c.slowdown if c is not None and c.verdict != "not-comparable" else None
            before = _slowdown(then, env.label, m)
            if before is not None or after is not None:
                moved.append(Moved(env.label, m, env.metrics[m].name if m in env.metrics else m,
                                   before, after))
    return tuple(moved)


def _slowdown(report: Report, label: str, metric_id: str) -> float | None:
    """The slowdown of medians of ``label`` against the baseline in ``report``
    (already harmonised); None when either lacks it or it is not comparable."""
    base, env = report.environment(report.baseline), report.environment(label)
    a, b = base.metrics.get(metric_id), env.metrics.get(metric_id)
    if a is None or b is None or not a.usable or not b.usable or incomparable(base, env,
                                                                             metric_id):
        return None
    return stats.slowdown(stats.median(a.samples), stats.median(b.samples), a.better)


def scope(now: Report, then: Report) -> Scope:
    """What ``since.`` placeholders may name: metrics and environments of both."""
    labels = [e.label for e in now.environments
              if any(o.label == e.label for o in then.environments)]
    metrics = ({m for e in now.environments for m in e.metrics}
               & {m for e in then.environments for m in e.metrics})
    return Scope(metrics, labels, "")


def usable(now: Report, then: Report, metric_id: str, env: str) -> bool:
    """Whether ``since.<metric_id>.<env>`` has a figure: measured in both."""
    def ok(report: Report) -> bool:
        found = next((e for e in report.environments if e.label == env), None)
        metric = found.metrics.get(metric_id) if found else None
        return metric is not None and metric.usable

    return ok(now) and ok(then)


def value(found: Since, ref: Ref) -> str:
    """A ``since.`` placeholder's text; its names were checked against :func:`scope`."""
    assert ref.metric is not None
    row = found.row(ref.metric, ref.env)
    if ref.field == "value":
        return figures.quantity(row.then, row.comparison.unit)
    return compare.field_text(row.comparison, ref.field)
