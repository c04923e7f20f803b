"""The golden files checked against their inputs, not against the code.

tests/test_golden.py holds each build against tests/golden/, but `make
golden` writes those files with the code under test: a wrong figure that got
into them would pass from then on. The checks here read each golden file
directly (json, re, html.parser, xml.etree) and hold it against figures
worked out again from report.yml and the results files (tests/recompute.py)
and against the rules of docs/formats.md: every check runs on every golden
report that has the file it reads.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.golden import FOUR_ENV, GOLDEN, GOLDEN_FOUR_ENV, ROOT
from tests.recompute import (
    ALPHA,
    MIN_ROUNDS,
    Inputs,
    Measured,
    benjamini_hochberg,
    geometric_mean,
    mann_whitney_p,
    read_inputs,
    rounds_to,
    rounds_to_decimals,
)

# slug -> (its golden files, the report directory they were built from)
REPORTS = {
    "bhyve-smp": (GOLDEN, ROOT / "reports" / "bhyve-smp"),
    "four-env": (GOLDEN_FOUR_ENV, FOUR_ENV / "reports" / "four-env"),
}

TIERS = ("negligible", "moderate", "severe")
UNTIERED = ("inconclusive", "not-comparable")
# docs/formats.md: a verdict outside the tiers, written out in words.
VERDICT_WORDS = {"inconclusive": "inconclusive", "not-comparable": "not comparable"}
DEFAULT_HEADINGS = {"negligible": "Negligible overhead", "moderate": "Moderate overhead",
                    "severe": "Severe overhead", "inconclusive": "Inconclusive: the data cannot tell",
                    "not-comparable": "Not comparable"}
NUMBER = r"[\d,]+(?:\.\d+)?"


@dataclass
class Golden:
    slug: str
    folder: Path
    inputs: Inputs
    analysis: dict[str, Any] = field(repr=False)

    def read(self, name: str) -> str:
        return (self.folder / name).read_text(encoding="utf-8")

    @property
    def comparisons(self) -> list[dict[str, Any]]:
        return list(self.analysis["comparisons"])

    def comparison(self, metric: str, env: str) -> dict[str, Any] | None:
        found = [c for c in self.comparisons if c["metric"] == metric and c["env"] == env]
        assert len(found) <= 1, (metric, env)
        return found[0] if found else None

    def of(self, env: str) -> list[dict[str, Any]]:
        return [c for c in self.comparisons if c["env"] == env]


def golden_of(slug: str) -> Golden:
    folder, report_dir = REPORTS[slug]
    analysis = json.loads((folder / "analysis.json").read_text(encoding="utf-8"))
    return Golden(slug, folder, read_inputs(report_dir), analysis)


@pytest.fixture(scope="module", params=list(REPORTS))
def golden(request: pytest.FixtureRequest) -> Golden:
    return golden_of(request.param)


def with_file(name: str) -> list[str]:
    """The golden reports that have ``name``: index.html is golden for one only."""
    return [slug for slug, (folder, _) in REPORTS.items() if (folder / name).is_file()]


# --- the rules of docs/formats.md, written out again ------------------------------------

def expected_tier(verdict: str, s: float, thresholds: dict[str, float]) -> str:
    """negligible for same, better or s < moderate; moderate below severe."""
    if verdict in UNTIERED:
        return verdict
    if verdict in ("same", "better") or s < thresholds["moderate"]:
        return "negligible"
    return "moderate" if s < thresholds["severe"] else "severe"


def worst_tier(tiers: list[str]) -> str:
    """A result outside the tiers takes the whole item out of them."""
    order = TIERS + UNTIERED
    return max(tiers, key=order.index)


def verdict_text(c: dict[str, Any]) -> str:
    """What the text and Markdown show as a comparison's result."""
    if c["verdict"] in UNTIERED:
        return f"{VERDICT_WORDS[c['verdict']]} ({c['reason']})"
    return str(c["label"])


def words_of(g: Golden, c: dict[str, Any]) -> str:
    """A result with its direction in words: a worse `~Nx` is slower, a worse
    change is longer (lower is better) or less throughput (higher is better);
    any other result keeps its label."""
    label = str(c["label"])
    if c["verdict"] != "worse":
        return label
    if label.startswith("~"):
        return f"{label} slower"
    better = g.inputs.measured[g.inputs.baseline][c["metric"]].better
    return f"{label.lstrip('+-')} {'longer' if better == 'lower' else 'less throughput'}"


def undecided_of(g: Golden, env: str, found: list[dict[str, Any]] | None = None) -> str:
    """``N of M inconclusive: <reason>``, or "" when none is; the goldens'
    inconclusive results of one environment share one reason."""
    found = g.of(env) if found is None else found
    reasons = [c["reason"] for c in found if c["verdict"] == "inconclusive"]
    if not reasons:
        return ""
    assert len(set(reasons)) == 1, reasons
    return f"{len(reasons)} of {len(found)} inconclusive: {reasons[0]}"


def label_of(g: Golden, metric: str, env: str) -> str:
    c = g.comparison(metric, env)
    return "n/a" if c is None else str(c["label"])


def resolve_labels(g: Golden, template: str) -> str:
    """A section's own `label`, its placeholders replaced by analysis.json's
    labels; any other placeholder is beyond these checks."""
    def one(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        assert parts[-1] == "label", f"only label placeholders are resolved here: {match[0]}"
        if parts[-2] in g.inputs.compared:
            return label_of(g, ".".join(parts[:-2]), parts[-2])
        (env,) = g.inputs.compared
        return label_of(g, ".".join(parts[:-1]), env)

    return re.sub(r"\{\{\s*([^}\s]+)\s*\}\}", one, template)


def badge_parts(g: Golden, section: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A section's badge as (environment, text, tier) parts: one part per
    metric and environment, the short name after the label when the section
    has several metrics, the environment named when several are compared; a
    section's own `label` is one part in the worst tier of its metrics."""
    metrics = g.inputs.section_metrics(section)
    if "label" in section:
        tiers = [c["tier"] for m, _ in metrics for env in g.inputs.compared
                 if (c := g.comparison(m, env)) is not None]
        return [("", resolve_labels(g, section["label"]), worst_tier(tiers))]
    several = len(g.inputs.compared) > 1
    parts = []
    for env in g.inputs.compared:
        for metric, short in metrics:
            c = g.comparison(metric, env)
            text = label_of(g, metric, env) + (f" {short}" if len(metrics) > 1 else "")
            parts.append((env if several else "", text, "none" if c is None else c["tier"]))
    return parts


def section_badge(g: Golden, section: dict[str, Any]) -> str:
    """The badge as one line: `-36% write, -48% read`, `kvm: +8%; bhyve: ~4x`."""
    parts = badge_parts(g, section)
    if "label" in section or len(g.inputs.compared) == 1:
        return ", ".join(text for _, text, _ in parts)
    per_env: dict[str, list[str]] = {}
    for env, text, _ in parts:
        per_env.setdefault(env, []).append(text)
    return "; ".join(f"{env}: {', '.join(texts)}" for env, texts in per_env.items())


def unit_shown(unit: str) -> str:
    """Units as the tool reported them, except that `us` is written `µs`."""
    return "µs" if unit == "us" else unit


def headline_counts(g: Golden, env: str) -> dict[str, int]:
    """The tiers of an environment's comparisons; the untiered only when any."""
    counts = Counter(c["tier"] for c in g.of(env))
    return {t: counts[t] for t in TIERS} | {t: counts[t] for t in UNTIERED if counts[t]}


def parse_counts(text: str) -> dict[str, int]:
    found = re.findall(r"(\d+) (negligible|moderate|severe|inconclusive|not comparable)", text)
    return {word.replace(" ", "-"): int(n) for n, word in found}


def included(g: Golden, env: str) -> list[dict[str, Any]]:
    """The comparisons the geometric mean takes: same, worse and better."""
    return [c for c in g.of(env) if c["verdict"] in ("same", "worse", "better")]


def largest(g: Golden, env: str) -> list[dict[str, Any]]:
    """Up to three worse results, largest slowdown (recomputed) first, ties by id."""
    worse = [c for c in g.of(env) if c["verdict"] == "worse"]
    return sorted(worse, key=lambda c: (-g.inputs.slowdown(c["metric"], env), c["metric"]))[:3]


def check_figures(g: Golden, where: str, metric: str, env: str, *, value: str, base: str,
                  s: str, low: str, high: str, p: str, result: str) -> None:
    """One comparison's figures as a format prints them: both medians and the
    slowdown against the recomputed ones, the interval and p against
    analysis.json at the printed precision, and the result against the verdict."""
    c = g.comparison(metric, env)
    assert c is not None, (where, metric, env)
    base_m, env_m = g.inputs.pair(metric, env)
    assert rounds_to(value, env_m.median), (where, metric, env, value, env_m.median)
    assert rounds_to(base, base_m.median), (where, metric, env, base, base_m.median)
    assert rounds_to(s, g.inputs.slowdown(metric, env)), (where, metric, env, s)
    assert rounds_to(low, c["interval"][0]) and rounds_to(high, c["interval"][1]), (
        where, metric, env, low, high, c["interval"])
    assert rounds_to_decimals(p, c["p_value"]), (where, metric, env, p, c["p_value"])
    assert result == verdict_text(c), (where, metric, env, result, verdict_text(c))


def shown_metrics(g: Golden) -> list[str]:
    return [m for s in g.inputs.sections() for m, _ in g.inputs.section_metrics(s)]


# --- analysis.json ------------------------------------------------------------------------

def test_report_block_names_the_report_as_report_yml_does(golden: Golden) -> None:
    spec = golden.inputs.spec
    assert golden.analysis["report"] == {
        "slug": golden.slug, "title": spec["title"], "date": str(spec["date"]),
        "baseline": spec["baseline"], "environments": golden.inputs.environments}


def test_one_comparison_per_shown_metric_and_compared_environment(golden: Golden) -> None:
    inputs = golden.inputs
    expected = sorted((m, env) for m in set(shown_metrics(golden)) for env in inputs.compared
                      if m in inputs.measured[inputs.baseline] and m in inputs.measured[env])
    assert [(c["metric"], c["env"]) for c in golden.comparisons] == expected
    for c in golden.comparisons:
        assert c["name"] == inputs.measured[inputs.baseline][c["metric"]].name


def test_counts_medians_and_slowdowns_come_from_the_results(golden: Golden) -> None:
    inputs = golden.inputs
    for c in golden.comparisons:
        base, other = inputs.pair(c["metric"], c["env"])
        assert c["samples"] == {"baseline": len(base.samples), "env": len(other.samples)}, c
        assert c["rounds"] == {"baseline": base.round_count, "env": other.round_count}, c
        if c["verdict"] == "not-comparable":
            assert c["slowdown"] is None and c["interval"] is None
            continue
        # slowdown = env / baseline when lower is better, baseline / env when higher
        s = other.median / base.median if base.better == "lower" else base.median / other.median
        assert c["slowdown"] == pytest.approx(s, rel=1e-5), (c["metric"], c["env"], s)
        low, high = c["interval"]
        assert 0 < low <= high


def test_p_values_are_the_rank_test_on_round_medians_adjusted_together(golden: Golden) -> None:
    for env in golden.inputs.compared:
        raw = {}
        for c in golden.of(env):
            base, other = golden.inputs.pair(c["metric"], env)
            if min(base.round_count, other.round_count) < 2:
                assert c["p_value"] is None, c
            elif c["verdict"] != "not-comparable":
                raw[c["metric"]] = mann_whitney_p(base.round_medians(), other.round_medians())
        for metric, q in benjamini_hochberg(raw).items():
            adjusted = golden.comparison(metric, env)
            assert adjusted is not None
            assert adjusted["p_value"] == pytest.approx(q, rel=1e-5), (metric, env, q)


def test_each_verdict_follows_from_rounds_interval_p_and_change(golden: Golden) -> None:
    assert "noise" not in golden.inputs.spec, "an A/A run widens the band: not handled here"
    band = golden.inputs.thresholds["noise"]
    for c in golden.comparisons:
        if c["verdict"] == "not-comparable":
            continue
        base, other = golden.inputs.pair(c["metric"], c["env"])
        change = golden.inputs.change(c["metric"], c["env"])
        s = golden.inputs.slowdown(c["metric"], c["env"])
        fewest = min(base.round_count, other.round_count)
        # the interval of s written as a change in the metric's own direction
        low, high = c["interval"] or (None, None)
        as_change = None if low is None or high is None else (
            (low - 1, high - 1) if base.better == "lower" else (1 / high - 1, 1 / low - 1))
        if fewest < MIN_ROUNDS:
            expected = "inconclusive"
        elif as_change and -band < as_change[0] and as_change[1] < band:
            expected = "same"
        elif c["p_value"] is not None and c["p_value"] < ALPHA and abs(change) >= band:
            expected = "worse" if s > 1 else "better"
        else:
            expected = "inconclusive"
        assert c["verdict"] == expected, (c["metric"], c["env"], expected)
        if expected == "worse":
            assert s > 1 and (change > 0) == (base.better == "lower"), c
        if expected == "better":
            assert s < 1 and (change < 0) == (base.better == "lower"), c
        if c["verdict"] == "inconclusive":
            assert c["reason"], c
            if fewest < MIN_ROUNDS:
                plural = "" if fewest == 1 else "s"
                assert c["reason"] == f"{fewest} round{plural}, need >= {MIN_ROUNDS}", c
            elif c["rule"] == "p":
                found = re.search(r"p = ([\d.]+)", c["reason"])
                assert found and c["p_value"] >= ALPHA, c
                assert rounds_to_decimals(found[1], c["p_value"]), c
                # an interval that excludes 1x is said not to be enough
                excludes = low is not None and high is not None and (low > 1 or high < 1)
                assert c["reason"].startswith("interval excludes 1x but ") == excludes, c
        else:
            assert c["reason"] is None, c


def test_every_badge_has_the_form_of_its_verdict(golden: Golden) -> None:
    multiplier = golden.inputs.thresholds["multiplier"]
    for c in golden.comparisons:
        label, verdict, env = c["label"], c["verdict"], c["env"]
        assert (label == "same") == (verdict == "same"), c
        assert (label == "?") == (verdict == "inconclusive"), c
        assert (label == "not comparable") == (verdict == "not-comparable"), c
        assert (label == f"{env} faster") == (verdict == "better"), c
        assert not label.endswith(" faster") or label == f"{env} faster", c
        if verdict != "worse":
            continue
        s = golden.inputs.slowdown(c["metric"], env)
        better = golden.inputs.measured[golden.inputs.baseline][c["metric"]].better
        if s >= multiplier:
            times = re.fullmatch(r"~(\d+)x", label)
            assert times and abs(int(times[1]) - s) <= 0.5, (c, s)
        else:
            # worse on a lower-is-better metric is a rise (+N%), on a higher-
            # is-better one a fall (-N%)
            percent = re.fullmatch(r"([+-])(\d+)%", label)
            assert percent, (c, s)
            assert percent[1] == ("+" if better == "lower" else "-"), c
            change = golden.inputs.change(c["metric"], env)
            assert abs(int(percent[1] + percent[2]) - change * 100) <= 0.5, (c, change)


def test_every_tier_follows_the_thresholds(golden: Golden) -> None:
    thresholds = golden.inputs.thresholds
    for c in golden.comparisons:
        s = golden.inputs.slowdown(c["metric"], c["env"])
        assert c["tier"] == expected_tier(c["verdict"], s, thresholds), (c, s, thresholds)


def test_headline_counts_means_and_largest_slowdowns(golden: Golden) -> None:
    headline = golden.analysis["headline"]
    assert [h["env"] for h in headline] == golden.inputs.compared
    for h in headline:
        env = h["env"]
        counts = Counter(c["tier"] for c in golden.of(env))
        assert h["counts"] == {t: counts[t] for t in TIERS + UNTIERED}, h
        assert sum(h["counts"].values()) == len(golden.of(env))
        chosen = included(golden, env)
        assert h["included"] == len(chosen)
        mean = geometric_mean(golden.inputs.slowdown(c["metric"], env) for c in chosen)
        assert h["geomean"] == pytest.approx(mean, rel=1e-5), (env, mean)
        assert h["interval"][0] <= h["interval"][1]
        assert [(w["metric"], w["label"], w["words"]) for w in h["worst"]] == [
            (c["metric"], c["label"], words_of(golden, c)) for c in largest(golden, env)]
        assert h["inconclusive"] == (undecided_of(golden, env) or None)
        for w in h["worst"]:
            assert w["slowdown"] == pytest.approx(golden.inputs.slowdown(w["metric"], env),
                                                  rel=1e-5)


# --- report.txt ---------------------------------------------------------------------------

def unwrap(lines: list[str]) -> list[str]:
    """Logical lines: an indented line continues the one before it."""
    out: list[str] = []
    for line in lines:
        if line.startswith(" ") and out:
            out[-1] += " " + line.strip()
        elif line.strip():
            out.append(line)
    return out


def text_parts(text: str) -> dict[str, list[str]]:
    """The headline, analysis and conclusions parts of a post, unwrapped."""
    lines = text.splitlines()
    start, analysis, conclusions = (lines.index(h) for h in (
        next(line for line in lines if line.startswith("Headline (")),
        "ANALYSIS AND NOTES", "CONCLUSIONS"))
    summary = next(i for i in range(conclusions, len(lines)) if lines[i].startswith("Summary:"))
    return {"headline": unwrap(lines[start + 1:analysis - 1]),
            "analysis": unwrap(lines[analysis + 2:conclusions - 1]),
            "conclusions": unwrap(lines[conclusions + 2:summary])}


def test_text_has_each_section_of_report_yml_with_its_badge(golden: Golden) -> None:
    sections = golden.inputs.sections()
    headings = [line for line in text_parts(golden.read("report.txt"))["analysis"]
                if re.match(r"\d+\. ", line)]
    assert len(headings) == len(sections)
    assert headings == [f"{n}. {s['title']} ({section_badge(golden, s)})"
                        for n, s in enumerate(sections, 1)]


UNSTABLE = r"(?: \(unstable: [^)]+\))?"
TEXT_FIGURES = re.compile(
    rf"(?P<value>{NUMBER}) (?P<unit>[^,;(]+?){UNSTABLE}, (?P<base_env>\S+) (?P<base>{NUMBER}) "
    rf"(?P=unit){UNSTABLE}; "
    rf"(?P<s>{NUMBER})x \(95% interval (?P<low>{NUMBER})x to (?P<high>{NUMBER})x, "
    rf"p = (?P<p>[\d.]+)\): (?P<result>.+)")


def test_text_figures_of_each_comparison(golden: Golden) -> None:
    analysis = text_parts(golden.read("report.txt"))["analysis"]
    inputs = golden.inputs
    figure_lines = [line for line in analysis if line.startswith("- ") and "95% interval" in line]
    assert len(figure_lines) == len(golden.comparisons)
    for c in golden.comparisons:
        base = inputs.measured[inputs.baseline][c["metric"]]
        prefix = f"- {c['name']}: {c['env']} "
        (line,) = [line for line in figure_lines if line.startswith(prefix)]
        found = TEXT_FIGURES.fullmatch(line[len(prefix):])
        assert found, line
        assert found["unit"] == unit_shown(base.unit) and found["base_env"] == inputs.baseline
        check_figures(golden, "report.txt", c["metric"], c["env"], value=found["value"],
                      base=found["base"], s=found["s"], low=found["low"], high=found["high"],
                      p=found["p"], result=found["result"])


TEXT_HEADLINE = re.compile(
    rf"- (?P<env>\S+): geometric mean (?P<mean>{NUMBER})x \(95% interval (?P<low>{NUMBER})x "
    rf"to (?P<high>{NUMBER})x\) results: (?P<counts>.+?)(?: largest: (?P<largest>.+?))?"
    rf"(?: (?P<undecided>\d+ of \d+ inconclusive: .+))?")


def test_text_headline_counts_the_verdicts(golden: Golden) -> None:
    entries = [TEXT_HEADLINE.fullmatch(line)
               for line in text_parts(golden.read("report.txt"))["headline"]]
    assert all(entries), entries
    assert [e["env"] for e in entries if e] == golden.inputs.compared
    for e in entries:
        assert e is not None
        env = e["env"]
        assert parse_counts(e["counts"]) == headline_counts(golden, env), e["counts"]
        mean = geometric_mean(golden.inputs.slowdown(c["metric"], env)
                              for c in included(golden, env))
        assert rounds_to(e["mean"], mean), (env, e["mean"], mean)
        (h,) = [h for h in golden.analysis["headline"] if h["env"] == env]
        assert rounds_to(e["low"], h["interval"][0]) and rounds_to(e["high"], h["interval"][1])
        # the worse results only; then how many are inconclusive, and why
        worse = ", ".join(f"{c['name']} {words_of(golden, c)}" for c in largest(golden, env))
        undecided = undecided_of(golden, env)
        assert (e["largest"] or "", e["undecided"] or "") == (
            worse or ("" if undecided else f"none: no metric is worse in {env}"), undecided)


def conclusion_blocks(g: Golden) -> list[tuple[str, list[tuple[str, str]]]]:
    """(heading, [(item name, figure)]) as docs/formats.md files them: per
    compared environment, each tier's block in turn, an item in the block of
    its worst metric, its figure the mildest to the worst label by slowdown,
    then untiered results in words."""
    spec = g.inputs.spec.get("conclusions", {})
    headings = {**DEFAULT_HEADINGS, **spec.get("headings", {})}
    blocks = []
    for env in g.inputs.compared:
        by_tier: dict[str, list[tuple[str, str]]] = {t: [] for t in TIERS + UNTIERED}
        for item in spec.get("items", []):
            found = [c for m in item["metrics"] if (c := g.comparison(m, env)) is not None]
            if not found:
                continue
            tiered = sorted((c for c in found if c["tier"] in TIERS),
                            key=lambda c: g.inputs.slowdown(c["metric"], env))
            parts = []
            if tiered:
                parts.append(range_words(g, tiered))
            if len(found) == 1 and found[0]["verdict"] == "inconclusive":
                parts.append(f"inconclusive ({found[0]['reason']})")
            elif undecided_of(g, env, found):
                parts.append(undecided_of(g, env, found))
            reasons = [c["reason"] for c in found if c["verdict"] == "not-comparable"]
            if reasons:
                parts.append(f"not comparable ({'; '.join(dict.fromkeys(reasons))})")
            by_tier[worst_tier([c["tier"] for c in found])].append((item["name"], "; ".join(parts)))
        suffix = f" ({env})" if len(g.inputs.compared) > 1 else ""
        blocks += [(f"{headings[t]}{suffix}:", items) for t, items in by_tier.items() if items]
    return blocks


def range_words(g: Golden, tiered: list[dict[str, Any]]) -> str:
    """Mildest to worst in words, said to be across the metrics so it never
    reads as an interval; a shared word is said once (`36% to 48% less throughput`)."""
    first, last = words_of(g, tiered[0]), words_of(g, tiered[-1])
    if first == last:
        return first
    across = f"across {len(tiered)} metrics"
    low, high = first.split(" ", 1), last.split(" ", 1)
    if all(c["verdict"] == "worse" for c in (tiered[0], tiered[-1])) and low[1] == high[1]:
        return f"{low[0]} to {high[0]} {low[1]} {across}"
    return f"{first} to {last} {across}"


def test_text_files_each_conclusion_under_its_worst_tier(golden: Golden) -> None:
    found: list[tuple[str, list[str]]] = []
    for line in text_parts(golden.read("report.txt"))["conclusions"]:
        if line.startswith("- "):
            found[-1][1].append(line)
        else:
            found.append((line, []))
    expected = conclusion_blocks(golden)
    assert [heading for heading, _ in found] == [heading for heading, _ in expected]
    for (heading, lines), (_, items) in zip(found, expected):
        assert len(lines) == len(items), heading
        for line, (name, figure) in zip(lines, items):
            # the author's note follows after a comma, or a space when it opens
            # with a parenthesis
            rest = line.removeprefix(f"- {name}: {figure}")
            assert rest != line and (rest[:2] in (", ", " (") or not rest), (heading, line, figure)


# --- report.md ----------------------------------------------------------------------------

def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def cells(row: str) -> list[str]:
    return [unescape(cell.strip()) for cell in re.split(r"(?<!\\)\|", row.strip()[1:-1])]


def md_tables(lines: list[str]) -> Iterator[list[list[str]]]:
    """Each table of the lines: header row first, the rule left out."""
    table: list[list[str]] = []
    for line in lines + [""]:
        if line.startswith("|"):
            if not re.fullmatch(r"\|(:?-+:?\|)+", line):
                table.append(cells(line))
        elif table:
            yield table
            table = []


def md_sections(md: str) -> list[tuple[str, list[str]]]:
    """(heading, lines) of each `### ` section of "Analysis and notes"."""
    lines = md.splitlines()
    start, end = lines.index("## Analysis and notes"), lines.index("## Conclusions")
    out: list[tuple[str, list[str]]] = []
    for line in lines[start:end]:
        if line.startswith("### "):
            out.append((unescape(line[4:]), []))
        elif out:
            out[-1][1].append(line)
    return out


MD_RESULT = re.compile(rf"(?P<result>.+): (?P<s>{NUMBER})x \(95% interval (?P<low>{NUMBER})x to "
                       rf"(?P<high>{NUMBER})x, p = (?P<p>[\d.]+)\)")


def split_value(cell: str, unit: str) -> str:
    number, _, shown_unit = cell.partition(" ")
    assert shown_unit == unit_shown(unit), (cell, unit)
    return number


def test_markdown_sections_badges_and_tables(golden: Golden) -> None:
    inputs = golden.inputs
    sections = md_sections(golden.read("report.md"))
    assert [heading for heading, _ in sections] == [
        f"{n}. {s['title']} ({section_badge(golden, s)})"
        for n, s in enumerate(inputs.sections(), 1)]
    rows = 0
    for (_, lines), section in zip(sections, inputs.sections()):
        (table,) = md_tables(lines)
        assert table[0] == ["Metric", *inputs.environments,
                            *[f"{env} vs {inputs.baseline}" for env in inputs.compared]]
        metrics = [m for m, _ in inputs.section_metrics(section)]
        assert [row[0] for row in table[1:]] == [
            inputs.measured[inputs.baseline][m].name for m in metrics]
        for row, metric in zip(table[1:], metrics):
            unit = inputs.measured[inputs.baseline][metric].unit
            values = dict(zip(inputs.environments, row[1:]))
            for env, cell in zip(inputs.compared, row[1 + len(inputs.environments):]):
                found = MD_RESULT.fullmatch(cell)
                assert found, cell
                check_figures(golden, "report.md", metric, env,
                              value=split_value(values[env], unit),
                              base=split_value(values[inputs.baseline], unit),
                              s=found["s"], low=found["low"], high=found["high"], p=found["p"],
                              result=found["result"])
                rows += 1
    assert rows == len(golden.comparisons)


def test_markdown_headline_counts_the_verdicts(golden: Golden) -> None:
    lines = golden.read("report.md").splitlines()
    start = lines.index("## Headline")
    table = next(md_tables(lines[start:]))
    assert table[0] == ["Environment", "Geometric mean", "Results", "Largest slowdowns"]
    assert [row[0] for row in table[1:]] == golden.inputs.compared
    for env, mean, counts, worst in table[1:]:
        found = re.fullmatch(rf"({NUMBER})x \(95% interval .*\)", mean)
        assert found and rounds_to(found[1], geometric_mean(
            golden.inputs.slowdown(c["metric"], env) for c in included(golden, env)))
        assert parse_counts(counts) == headline_counts(golden, env), counts
        worse = ", ".join(f"{c['name']} {words_of(golden, c)}" for c in largest(golden, env))
        said = "; ".join(t for t in (worse, undecided_of(golden, env)) if t)
        assert worst == (said or f"none: no metric is worse in {env}")


# --- index.html ---------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def own_text(self) -> str:
        return "".join(c for c in self.children if isinstance(c, str)).strip()

    def all(self, tag: str | None = None, cls: str | None = None) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes()):
                    yield child
                yield from child.all(tag, cls)

    def kids(self, tag: str) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def badge_tier(span: Node) -> str:
    (tier,) = [c.removeprefix("tier-") for c in span.classes() if c.startswith("tier-")]
    return tier


def badge_text(span: Node) -> str:
    """A badge's visible text; its hidden words, when it has them, must name
    the verdict and tier its colour classes give (the badge's meaning for a
    reader who cannot tell the colours apart)."""
    hidden = list(span.all("span", "visually-hidden"))
    if hidden:
        verdict = [c.removeprefix("verdict-") for c in span.classes() if c.startswith("verdict-")]
        words = hidden[0].text().removesuffix(": ")
        assert verdict and words.split(",")[0] == verdict[0].replace("-", " "), (words, verdict)
        if verdict[0] == "worse":
            assert words == f"worse, {badge_tier(span)}", words
    return span.own_text()


def shown_badges(badges: Node) -> list[tuple[str, str, str]]:
    """A `.badges` span as (environment, text, tier) parts."""
    parts, env = [], ""
    for span in badges.kids("span"):
        if "badge-env" in span.classes():
            env = span.text().removesuffix(":")
        else:
            parts.append((env, badge_text(span), badge_tier(span)))
    return parts


@pytest.mark.parametrize("slug", with_file("index.html"))
def test_html_badges_and_results_tables(slug: str) -> None:
    g = golden_of(slug)
    inputs = g.inputs
    page = parse_html(g.read("index.html"))
    toc = [li for li in next(page.all("nav", "toc")).all("li")
           if re.fullmatch(r"#s\d+", next(li.all("a")).attrs["href"])]
    workloads = list(page.all("section", "workload"))
    assert len(toc) == len(workloads) == len(inputs.sections())
    for n, (section, li, block) in enumerate(zip(inputs.sections(), toc, workloads), 1):
        expected = badge_parts(g, section)
        assert next(li.all("a")).text() == f"{n}. {section['title']}"
        assert shown_badges(next(li.all("span", "badges"))) == expected, n
        (h3,) = block.kids("h3")
        assert h3.attrs["id"] == f"s{n}"
        assert shown_badges(next(h3.all("span", "badges"))) == expected, n
        # one tbody per metric: its heading row, then a row per environment
        bodies = list(next(block.all("table", "results")).all("tbody"))
        metrics = [m for m, _ in inputs.section_metrics(section)]
        assert len(bodies) == len(metrics)
        for body, metric in zip(bodies, metrics):
            group = body.kids("tr")
            assert len(group) == 1 + len(inputs.environments)
            base = inputs.measured[inputs.baseline][metric]
            assert "metric" in group[0].classes()
            assert group[0].text().startswith(f"{base.name} ")
            assert [row.kids("th")[0].text() for row in group[1:]] == inputs.environments
            medians = {}
            for row in group[1:]:
                (th,) = row.kids("th")
                env, tds = th.text(), row.kids("td")
                value, _, unit = tds[0].text().partition(" ")
                assert unit == unit_shown(base.unit)
                medians[env] = value
                assert int(tds[1].own_text()) == len(inputs.measured[env][metric].samples)
                if env == inputs.baseline:
                    assert tds[2].text() == "baseline"
            for row in group[1:]:
                env, tds = row.kids("th")[0].text(), row.kids("td")
                if env == inputs.baseline:
                    continue
                c = g.comparison(metric, env)
                assert c is not None
                low, _, high = tds[3].text().partition(" to ")
                badge = next(tds[5].all("span", "badge"))
                assert (badge_text(badge), badge_tier(badge)) == (c["label"], c["tier"])
                reason = [s.text() for s in tds[5].all("span", "reason")]
                if c["verdict"] == "worse":  # the words beside the badge say what it means
                    assert reason == [f"worse, {c['tier']}"], reason
                decided = c["verdict"] in ("worse", "better", "same")
                check_figures(g, "index.html", metric, env, value=medians[env],
                              base=medians[inputs.baseline], s=tds[2].text().removesuffix("x"),
                              low=low.removesuffix("x"), high=high.removesuffix("x"),
                              p=tds[4].text(),
                              result=c["label"] if decided or not reason else reason[0])


@pytest.mark.parametrize("slug", with_file("index.html"))
def test_html_headline_counts_the_verdicts(slug: str) -> None:
    g = golden_of(slug)
    table = next(parse_html(g.read("index.html")).all("table", "headline"))
    rows = list(next(table.all("tbody")).all("tr"))
    assert [row.kids("th")[0].text() for row in rows] == g.inputs.compared
    for row in rows:
        env = row.kids("th")[0].text()
        mean, interval, counts, worst = row.kids("td")
        assert rounds_to(mean.text().removesuffix("x"), geometric_mean(
            g.inputs.slowdown(c["metric"], env) for c in included(g, env)))
        (h,) = [h for h in g.analysis["headline"] if h["env"] == env]
        low, _, high = interval.text().partition(" to ")
        assert rounds_to(low.removesuffix("x"), h["interval"][0])
        assert rounds_to(high.removesuffix("x"), h["interval"][1])
        assert parse_counts(counts.text()) == headline_counts(g, env)
        assert [(badge_text(b), badge_tier(b)) for b in worst.all("span", "badge")] == [
            (words_of(g, c), c["tier"]) for c in largest(g, env)]


# --- charts -------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def chart_names() -> list[Any]:
    return [pytest.param(slug, path.name, id=f"{slug}-{path.name}")
            for slug, (folder, _) in REPORTS.items()
            for path in sorted((folder / "charts").glob("*.svg"))]


def chart_title(svg: ET.Element) -> str:
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text
    return title.text


def x_scale(svg: ET.Element) -> tuple[float, float]:
    """Value per unit of x and value at x = 0, from the tick labels, after
    checking that the ticks lie on one straight line (a linear axis)."""
    ticks = []
    for group in svg.iter(f"{SVG}g"):
        if re.search(r"-xtick_\d+$", group.get("id", "")):
            (label,) = group.iter(f"{SVG}text")
            ticks.append((float(label.get("x", "nan")), float("".join(label.itertext())
                                                               .replace(",", ""))))
    (x0, v0), (x1, v1) = ticks[0], ticks[-1]
    per_x = (v1 - v0) / (x1 - x0)
    for x, v in ticks:
        assert v == pytest.approx(v0 + (x - x0) * per_x, abs=1e-6 * abs(v1 - v0)), ticks
    return per_x, v0 - x0 * per_x


def check_section_chart(g: Golden, number: int, svg: ET.Element) -> None:
    inputs = g.inputs
    section = inputs.sections()[number - 1]
    metrics = [m for m, _ in inputs.section_metrics(section)]
    # The title (the chart's text alternative) names each metric's medians
    # and each compared environment's label, in order.
    per_metric: list[str] = []
    for metric in metrics:
        base = inputs.measured[inputs.baseline][metric]
        entries = [rf"{re.escape(env)} (?P<m{len(per_metric)}_{i}>{NUMBER}) "
                   rf"{re.escape(unit_shown(base.unit))}"
                   + ("" if env == inputs.baseline else rf" \({re.escape(label_of(g, metric, env))}\)")
                   for i, env in enumerate(inputs.environments)]
        per_metric.append(re.escape(f"{base.name} ({base.better} is better): ") + ", ".join(entries))
    title = chart_title(svg)
    found = re.fullmatch(
        re.escape("Chart of every sample, the median and the 95% interval per environment in "
                  f"section {number}, {section['title']}, as the slowdown against "
                  f"{inputs.baseline}'s median on a log scale, one panel per metric. Medians: ")
        + "; ".join(per_metric)
        + r"\.", title)
    assert found, title
    for j, metric in enumerate(metrics):
        for i, env in enumerate(inputs.environments):
            median = inputs.measured[env][metric].median
            assert rounds_to(found[f"m{j}_{i}"], median), (metric, env, median)
    # A plot per metric and a median mark per environment in it, the
    # baseline's at 1x: a slower environment's mark lies to its right, a
    # faster one's to its left (the axis is the slowdown, log scale).
    ids = {e.get("id", ""): e for e in svg.iter()}
    for metric in metrics:
        assert f"s{number}-plot-{metric}" in ids, metric
        base_x = mark_x(ids[f"s{number}-median-{metric}-{inputs.baseline}"])
        for env in inputs.compared:
            mark = ids.get(f"s{number}-median-{metric}-{env}")
            s = inputs.slowdown(metric, env)
            assert mark is not None, (metric, env)
            if abs(math.log(s)) > 0.01:
                assert (mark_x(mark) > base_x) == (s > 1), (metric, env, s)


def mark_x(element: ET.Element) -> float:
    """The x of a median mark: the first point of its path, or of the path
    drawn by the <use> inside it."""
    for e in element.iter():
        d = e.get("d")
        if d:
            return float(re.findall(r"-?\d+(?:\.\d+)?", d)[0])
        if e.get("x") is not None:
            return float(e.get("x", "nan"))
    raise AssertionError(f"no position in {element.get('id')}")


def check_overview_chart(g: Golden, svg: ET.Element) -> None:
    inputs = g.inputs
    thresholds = inputs.thresholds
    several = len(inputs.compared) > 1
    title = chart_title(svg)
    head = re.fullmatch(
        rf"Chart of the slowdown against {re.escape(inputs.baseline)} per metric with its 95% "
        r"interval, largest first, inconclusive results after the others, on a log scale with "
        r"a line at 1x \(no difference\)"
        rf"(?: and a broken line where the moderate tier begins \(({NUMBER})x\))?"
        rf"(?: and a broken line where the severe tier begins \(({NUMBER})x\))?\. (.*)",
        title)
    assert head, title
    assert head[1] is None or rounds_to(head[1], thresholds["moderate"])
    assert head[2] is None or rounds_to(head[2], thresholds["severe"])
    shown = [(metric, env) for metric in shown_metrics(g) for env in inputs.compared
             if (c := g.comparison(metric, env)) is not None and c["verdict"] != "not-comparable"]
    # largest slowdown first; inconclusive results after the others
    shown.sort(key=lambda pair: (g.comparison(*pair)["verdict"] == "inconclusive",  # type: ignore[index]
                                 -inputs.slowdown(*pair)))
    entries = head[3].split("; ")
    assert len(entries) == len(shown)
    for entry, (metric, env) in zip(entries, shown):
        c = g.comparison(metric, env)
        assert c is not None
        name = c["name"] + (f", {env}" if several else "")
        found = re.fullmatch(rf"{re.escape(name)}: (?P<s>{NUMBER})x \((?P<tier>[a-z-]+)\), "
                             rf"interval (?P<low>{NUMBER})x to (?P<high>{NUMBER})x", entry)
        assert found, entry
        assert rounds_to(found["s"], inputs.slowdown(metric, env)), entry
        assert found["tier"] == c["tier"], entry
        assert rounds_to(found["low"], c["interval"][0]), entry
        assert rounds_to(found["high"], c["interval"][1]), entry


@pytest.mark.parametrize(("slug", "name"), chart_names())
def test_chart_shows_the_samples_medians_and_verdicts(slug: str, name: str) -> None:
    g = golden_of(slug)
    svg = ET.parse(g.folder / "charts" / name).getroot()
    if name == "overview.svg":
        check_overview_chart(g, svg)
    else:
        number = re.fullmatch(r"s(\d+)\.svg", name)
        assert number, name
        check_section_chart(g, int(number[1]), svg)


# --- the recomputation itself ---------------------------------------------------------------

def test_recomputation_pools_files_of_one_label(tmp_path: Path) -> None:
    """The reports above have one file per environment; pooling is checked here."""
    def results(label: str, samples: list[float], rounds: list[int]) -> str:
        return json.dumps({"environment": {"label": label}, "metrics": [
            {"id": "m", "name": "m", "unit": "ns", "better": "lower", "status": "ok",
             "samples": samples, "sample_rounds": rounds}]})

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "a.json").write_text(results("base", [1.0, 2.0, 9.0], [1, 1, 2]))
    (tmp_path / "results" / "b.json").write_text(results("env", [4.0, 5.0], [1, 2]))
    (tmp_path / "results" / "c.json").write_text(results("base", [3.0], [1]))
    (tmp_path / "report.yml").write_text("baseline: base\nsections: []\n")
    inputs = read_inputs(tmp_path)
    pooled: Measured = inputs.measured["base"]["m"]
    assert inputs.environments == ["base", "env"]
    assert (pooled.samples, pooled.median, pooled.round_count) == ((1.0, 2.0, 9.0, 3.0), 2.5, 3)
    assert sorted(pooled.round_medians()) == [1.5, 3.0, 9.0]
    assert inputs.slowdown("m", "env") == 4.5 / 2.5
