"""Everything the renderers show, computed once from the model.

``analyse(report)`` runs the comparison rules over every section, resolves the
placeholders in the author's text and groups the conclusions by tier.  HTML,
PDF, plain text and Markdown all render this one object, so they cannot
disagree.  No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from reportgen.analyse import compare, since, stats, wording
from reportgen.analyse.comparability import incomparable, oversubscribed
from reportgen.analyse.compare import Comparison
from reportgen.analyse.headline import Headline, headline, undecided_lines
from reportgen.analyse.provenance import provenance
from reportgen.analyse.since import Since, since_part
from reportgen.core import figures, units
from reportgen.core.cards import Card, CardMetric
from reportgen.core.markdown import escape
from reportgen.core.model import TIERS, Environment, Metric, Report, Section, Text
from reportgen.core.placeholders import Ref, Scope, substitute
from reportgen.core.stability import stability

DEFAULT_HEADINGS = {
    "negligible": "Negligible overhead",
    "moderate": "Moderate overhead",
    "severe": "Severe overhead",
    "inconclusive": "Inconclusive: the data cannot tell",
    "not-comparable": "Not comparable",
}



@dataclass(frozen=True)
class Measurement:
    """A metric's figures in one environment (a row of a results table)."""

    env: str
    metric: Metric
    median: float | None  # None when the metric has no usable samples
    comparison: Comparison | None  # None for the baseline or a failed metric
    unstable: str = ""  # why the samples are unstable (core.stability), or ""


@dataclass(frozen=True)
class MetricView:
    id: str
    name: str
    short: str
    unit: str
    better: str
    measurements: tuple[Measurement, ...]  # one per environment, baseline first

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        return tuple(m.comparison for m in self.measurements if m.comparison)


@dataclass(frozen=True)
class BadgePart:
    """One part of a section's badge, coloured by its own tier, not the section's worst."""

    env: str  # the environment it is about; "" when the report compares only one
    text: str  # "-36% write", "~4x"
    tier: str


@dataclass(frozen=True)
class SectionView:
    number: int
    title: str
    anchor: str
    badge: str
    analysis: str  # Markdown with placeholders resolved
    metrics: tuple[MetricView, ...]
    parts: tuple[BadgePart, ...] = ()  # the badge in parts; one part when the author wrote it


@dataclass(frozen=True)
class ConclusionView:
    name: str
    figure: str
    tier: str
    note: str
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class TierBlock:
    tier: str
    heading: str
    items: tuple[ConclusionView, ...]


@dataclass(frozen=True)
class EnvConclusions:
    env: str
    blocks: tuple[TierBlock, ...]  # non-empty tiers, mildest first


@dataclass(frozen=True)
class SpecRow:
    """One line of the side-by-side system table."""

    name: str
    values: tuple[str, ...]  # one per environment, in report order
    differs: tuple[bool, ...]  # True where a value differs from the baseline's


@dataclass(frozen=True)
class NoiseRow:
    """One metric's noise floor, from the report's A/A run."""

    id: str
    name: str
    floor: compare.NoiseFloor


@dataclass(frozen=True)
class Analysis:
    report: Report
    intro: str
    summary: str
    system: tuple[tuple[str, str], ...]  # the author's header rows, resolved
    spec: tuple[SpecRow, ...]
    sections: tuple[SectionView, ...]
    conclusions: tuple[EnvConclusions, ...]
    notes: tuple[str, ...] = ()  # what the reader must know about how it was measured
    noise_floor: tuple[NoiseRow, ...] = ()  # per metric, when report.yml names an A/A run
    # The adjusted p-value of every test on round medians, as "metric/env": what a later
    # analysis of the same data may be given instead of testing again.
    p_values: Mapping[str, float | None] = field(default_factory=dict, compare=False)
    since: Since | None = None  # against the earlier report it follows (analyse/since.py)

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        """Every comparison shown in a section, in report order, each once."""
        seen: dict[tuple[str, str], Comparison] = {}
        for section in self.sections:
            for metric in section.metrics:
                for c in metric.comparisons:
                    seen.setdefault((c.metric_id, c.env), c)
        return tuple(seen.values())

    @cached_property
    def headline(self) -> Headline:
        """The computed summary the report opens with (see headline.py)."""
        names = {m.id: m.name for s in self.sections for m in s.metrics}
        return headline(self.report, self.comparisons, names)


def analyse(report: Report, p_values: Mapping[str, float | None] | None = None,
            earlier: Report | None = None) -> Analysis:
    """The report analysed.  ``p_values`` are the adjusted p-values an earlier
    analysis of the same results gave (``Analysis.p_values``); an environment
    whose tests are all among them is not tested again, which spares an edit of
    the prose loading scipy.  ``earlier`` is the report it follows, if any."""
    report = units.harmonise(report)
    floors = noise_floors(report)
    p_values = dict(p_values or {})
    bands = noise_bands(floors)
    table = _comparisons(report, bands, p_values)
    found = since_part(report, earlier, bands, table) if earlier else None
    resolve = _Resolver(report, table, found, earlier)
    sections = tuple(_section(report, i, s, table, resolve)
                     for i, s in enumerate(report.sections, start=1))
    return Analysis(
        report=report,
        intro=resolve(report.intro),
        summary=resolve(report.summary),
        system=tuple((row.key, resolve(row.value, markdown=False)) for row in report.system),
        spec=_spec(report.environments),
        sections=sections,
        conclusions=tuple(_conclusions(report, env.label, table, resolve)
                          for env in report.others),
        notes=drift_notes(report) + _cautions(report),
        noise_floor=tuple(NoiseRow(m, report.noise[0].metrics[m].name, f)
                          for m, f in floors.items() if report.noise),
        p_values=p_values,
        since=found,
    )


Table = dict[tuple[str, str], Comparison]


def evidence(c: Comparison) -> str:
    """``3.96x (95% interval 3.93x to 3.98x, p = 0.008)``: a slowdown and how
    sure it is, as every format prints it."""
    bounds = figures.interval(c.interval) or "n/a"
    return (f"{figures.ratio(c.slowdown)} (95% interval {bounds}, "
            f"{figures.p_is(c.p_value)})")


def noise_intro(report: Report) -> str:
    """The sentence that introduces the noise floor rows."""
    if report.noise is None:
        return ""
    a, b = report.noise
    return (f"Noise floor from an A/A run ({a.file_name} against {b.file_name}); the "
            "smallest change each metric can show:")


def noise_text(row: NoiseRow) -> str:
    """``getpid() latency: +-12% (A/A change +3%, 95% interval -5% to +12%)``."""
    f = row.floor
    bounds = (f"{figures.percent(f.interval[0])} to {figures.percent(f.interval[1])}"
              if f.interval else "n/a")
    return (f"{row.name}: {figures.band(f.band)} "
            f"(A/A change {figures.percent(f.change)}, 95% interval {bounds})")


def _comparisons(report: Report, bands: dict[str, float],
                 p_values: dict[str, float | None]) -> Table:
    """Compare every metric the baseline and an environment both have usable;
    each environment's p-values are adjusted together (stats.adjusted_p_values).
    ``p_values`` holds the known ones; those computed here are added to it."""
    base = report.environment(report.baseline)
    table: Table = {}
    for env in report.others:
        pairs = {metric_id: (base.metrics[metric_id], metric)
                 for metric_id, metric in env.metrics.items()
                 if metric_id in base.metrics and base.metrics[metric_id].usable
                 and metric.usable}
        reasons = {metric_id: incomparable(base, env, metric_id) for metric_id in pairs}
        tested = {metric_id: f"{metric_id}/{env.label}" for metric_id in pairs
                  if not reasons[metric_id]}
        drift = _drift(base, env, {m: pairs[m] for m in tested})
        names = [*tested.values(), *(n + DRIFT_KEY for n in tested.values() if drift)]
        if not all(name in p_values for name in names):
            p_values.update(_tested(pairs, tested, drift))
        for metric_id, (ref, metric) in pairs.items():
            name = tested.get(metric_id, "")
            table[metric_id, env.label] = (
                compare.not_comparable(ref, metric, env.label, reasons[metric_id])
                if reasons[metric_id]
                else compare.compare(ref, metric, env.label, report.thresholds,
                                     noise=bands.get(metric_id), p=p_values[name],
                                     drift=(drift[0], p_values[name + DRIFT_KEY])
                                     if drift else None, tests=len(tested)))
    return table


Fitted = tuple[stats.Drift, dict[str, tuple[stats.Series, stats.Series]]]


def _drift(base: Environment, env: Environment,
           pairs: dict[str, tuple[Metric, Metric]]) -> Fitted | None:
    """For two environments measured one after the other, the drift of the
    machine over their rounds (every metric's, one slope) and each metric's
    rounds as series in time; None when they alternated."""
    origin = compare.first_start(base.rounds + env.rounds)
    if origin is None or not pairs or not compare.sequential(base.rounds, env.rounds):
        return None
    starts = (compare.start_seconds(base.rounds, origin),
              compare.start_seconds(env.rounds, origin))
    if any(not set(metric.round_numbers) <= set(start)
           for pair in pairs.values() for metric, start in zip(pair, starts)):
        return None  # a round without a start time: nothing to place in time
    series = {m: (stats.series(a, starts[0]), stats.series(b, starts[1]))
              for m, (a, b) in pairs.items()}
    return stats.drift(list(series.values())), series


def _tested(pairs: dict[str, tuple[Metric, Metric]], tested: dict[str, str],
            drift: Fitted | None) -> dict[str, float | None]:
    """The adjusted p-value of every tested metric, by name; when the sides
    were measured one after the other, also that of the test with the drift
    taken out, by name + DRIFT_KEY."""
    plain = stats.adjusted_p_values({m: stats.p_value(*pairs[m]) for m in tested})
    found = {tested[m]: q for m, q in plain.items()}
    if drift is not None:
        fit, series = drift
        corrected = stats.adjusted_p_values({m: stats.drift_p_value(*series[m], fit)
                                             for m in tested})
        found.update({tested[m] + DRIFT_KEY: q for m, q in corrected.items()})
    return found


DRIFT_KEY = "/drift"  # the drift-corrected p-value's name beside the plain one


def _cautions(report: Report) -> tuple[str, ...]:
    return tuple(f"{metric_id} ran {threads} threads on the {cpus} CPU threads of {env.label}: "
                 "the threads competed for CPUs."
                 for env in report.environments for metric_id, threads, cpus in
                 oversubscribed(env))


def noise_floors(report: Report) -> dict[str, compare.NoiseFloor]:
    """Each metric's noise floor from the report's A/A run; metrics the A/A
    run lacks keep ``thresholds.noise`` as their band."""
    if report.noise is None:
        return {}
    a, b = report.noise
    return {m: compare.noise_floor(a.metrics[m], b.metrics[m], report.thresholds)
            for m in a.metrics if m in b.metrics and a.metrics[m].usable
            and b.metrics[m].usable}


def noise_bands(floors: Mapping[str, compare.NoiseFloor]) -> dict[str, float]:
    """Each metric's noise band, from its noise floor."""
    return {m: f.band for m, f in floors.items()}


def drift_notes(report: Report) -> tuple[str, ...]:
    """A note per environment measured one after the other with the baseline."""
    base = report.environment(report.baseline)
    return tuple(f"{base.label} and {env.label} were measured one after the other, not in "
                 "alternation: drift of the machine between them (load, temperature, "
                 "updates) is not controlled." for env in report.others
                 if compare.sequential(base.rounds, env.rounds))


def _section(report: Report, number: int, section: Section, table: Table,
             resolve: _Resolver) -> SectionView:
    metrics = tuple(_metric_view(report, m.id, m.short, table) for m in section.metrics)
    if section.label is not None:
        badge = resolve(section.label, markdown=False)
        found = [c for m in metrics for c in m.comparisons]
        parts: tuple[BadgePart, ...] = (
            BadgePart("", badge, wording.worst_tier(found) if found else "none"),)
    else:
        badge = _compose_badge(report, metrics)
        parts = _badge_parts(report, metrics)
    return SectionView(number, section.title, f"s{number}", badge,
                       resolve(section.analysis), metrics, parts)


def _metric_view(report: Report, metric_id: str, short: str, table: Table) -> MetricView:
    rows = []
    for env in report.environments:
        metric = env.metrics[metric_id]
        median = stats.median(metric.samples) if metric.usable else None
        steady = stability(metric.samples)
        rows.append(Measurement(env.label, metric, median, table.get((metric_id, env.label)),
                                steady.describe() if steady.unstable else ""))
    first = report.environment(report.baseline).metrics[metric_id]
    return MetricView(metric_id, first.name, short, first.unit, first.better, tuple(rows))


def _compose_badge(report: Report, metrics: Sequence[MetricView]) -> str:
    per_env = []
    for env in report.others:
        parts = [(m.short, _label(m, env.label)) for m in metrics]
        per_env.append((env.label, wording.compose(parts)))
    if len(per_env) == 1:
        return per_env[0][1]
    return "; ".join(f"{env}: {text}" for env, text in per_env)


def _badge_parts(report: Report, metrics: Sequence[MetricView]) -> tuple[BadgePart, ...]:
    """The composed badge's parts, in the order ``_compose_badge`` writes them."""
    several = len(report.others) > 1
    parts = []
    for env in report.others:
        for m in metrics:
            found = [c for c in m.comparisons if c.env == env.label]
            text = wording.badge_part(m.short if len(metrics) > 1 else "", _label(m, env.label))
            parts.append(BadgePart(env.label if several else "", text,
                                   found[0].tier if found else "none"))
    return tuple(parts)


def _label(metric: MetricView, env: str) -> str:
    found = [c for c in metric.comparisons if c.env == env]
    return found[0].label if found else "n/a"


def _conclusions(report: Report, env: str, table: Table, resolve: _Resolver) -> EnvConclusions:
    by_tier: dict[str, list[ConclusionView]] = {t: [] for t in TIERS + compare.UNTIERED}
    for item in report.conclusions:
        found = tuple(table[m, env] for m in item.metrics if (m, env) in table)
        if not found:
            continue
        # one comparison outside the tiers takes the whole item out of them
        tier = wording.worst_tier(found)
        note = resolve(Text(item.note, report.intro.source), markdown=False)
        by_tier[tier].append(ConclusionView(item.name, wording.figure(found), tier, note, found))
    headings = {**DEFAULT_HEADINGS, **report.tier_headings}
    return EnvConclusions(env, tuple(TierBlock(t, headings[t], tuple(items))
                                     for t, items in by_tier.items() if items))


def _spec(envs: Sequence[Environment]) -> tuple[SpecRow, ...]:
    """System facts side by side; a row nobody reported is left out."""
    facts: list[tuple[str, Callable[[Environment], str]]] = [
        ("Description", lambda e: e.description),
        ("CPU", lambda e: str(e.system.get("cpu_model", ""))),
        ("Cores / threads", lambda e: _cores(e.system)),
        ("Memory", lambda e: figures.memory(e.system["memory_bytes"])
         if "memory_bytes" in e.system else ""),
        ("OS", lambda e: " ".join(str(e.system.get(k, "")) for k in ("os", "os_release")).strip()),
        ("Kernel", lambda e: str(e.system.get("kernel", ""))),
        ("Architecture", lambda e: str(e.system.get("arch", ""))),
        ("Virtualization", lambda e: system_fact(e, "virtualization")),
        ("Tools", lambda e: ", ".join(_tool(k, str(v)) for k, v in
                                      sorted(e.system.get("tools", {}).items()))),
        ("Collected", lambda e: e.collected_at),
    ]
    rows = []
    for name, get in facts:
        values = tuple(get(e) for e in envs)
        if any(values):
            rows.append(SpecRow(name, values, tuple(v != values[0] for v in values)))
    return tuple(rows)


def _tool(name: str, version: str) -> str:
    """``python 3.11.7``; a version line that names its tool is kept as it is."""
    return version if version.startswith(name) else f"{name} {version}"


def _cores(system: dict[str, object]) -> str:
    cores, threads = system.get("cpu_cores"), system.get("cpu_threads")
    if cores and threads:
        return f"{cores} / {threads}"
    return str(cores or threads or "")


def system_fact(env: Environment, field: str) -> str:
    """A system field as text, for placeholders and the spec table."""
    system = env.system
    if field == "description":
        return env.description
    if field == "collected_at":
        return env.collected_at
    if field == "memory":
        return figures.memory(system["memory_bytes"]) if "memory_bytes" in system else ""
    virt = system.get("virtualization") or {}
    if field == "virtualization":
        return ", ".join(str(virt[k]) for k in ("role", "technology") if virt.get(k))
    if field == "technology":
        return str(virt.get("technology", ""))
    if field.startswith("tools."):
        return str(system.get("tools", {}).get(field[6:], ""))
    if field == "hostname":
        return str(system.get("hostname", ""))
    return str(system.get(field, ""))


class _Resolver:
    """Replaces placeholders with figures from the comparison table."""

    def __init__(self, report: Report, table: Table, found: Since | None = None,
                 earlier: Report | None = None) -> None:
        self.report = report
        self.table = table
        self.since = found
        self.scope = scope(report, earlier)

    def __call__(self, text: Text, *, markdown: bool = True) -> str:
        def lookup(ref: Ref) -> str:
            value = self.value(ref)
            return escape(value) if markdown else value

        return substitute(text.markdown, self.scope, lookup)

    def value(self, ref: Ref) -> str:
        if ref.since:
            assert self.since is not None  # the scope has since names only then
            return since.value(self.since, ref)
        env = self.report.environment(ref.env)
        if ref.metric is None:
            return system_fact(env, ref.field)
        metric = env.metrics[ref.metric]
        if ref.field == "value":
            return figures.quantity(stats.median(metric.samples), metric.unit)
        return compare.field_text(self.table[ref.metric, ref.env], ref.field)


def scope(report: Report, earlier: Report | None = None) -> Scope:
    metrics = {metric_id for e in report.environments for metric_id in e.metrics}
    return Scope(metrics, [e.label for e in report.environments], report.baseline,
                 since.scope(report, earlier) if earlier else None)


def card(analysis: Analysis) -> Card:
    report = analysis.report
    names = {m.id: m.name for s in analysis.sections for m in s.metrics}
    return Card(
        slug=report.slug, title=report.title, date=report.date.isoformat(),
        author=report.author, baseline=report.baseline,
        environments=tuple(e.label for e in report.environments),
        metrics=tuple(CardMetric(c.metric_id, names[c.metric_id], c.unit, c.env, c.base_median,
                                 c.median, c.slowdown, c.label, c.tier, c.verdict,
                                 wording.direction(c))
                      for c in analysis.comparisons),
        undecided=undecided_lines(analysis.headline),
        data=tuple(name for name, _ in report.data_files()),
        provenance=provenance(report),
    )
