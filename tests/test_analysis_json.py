"""analysis.json: valid against its schema, true to the results it was
computed from, written for every build, linked from the index and carried
over by incremental builds.

The example's figures are checked against values worked out by hand (in the
comments) or again from reports/bhyve-smp/results/*.json by tests/recompute.py,
never against another output of the same code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reportgen.analyse.analysis import analyse
from reportgen.render import analysis_json as render_json
from tests.factories import environment, in_rounds, report
from tests.golden import ROOT, build_example
from tests.recompute import (
    Inputs,
    benjamini_hochberg,
    geometric_mean,
    mann_whitney_p,
    read_inputs,
)
from tests.test_headline import with_verdicts
from tests.test_site_build import project, run

SCHEMA = json.loads((ROOT / "reportgen" / "read" / "schemas" / "analysis.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_example(tmp_path_factory.mktemp("analysis") / "site").parent


@pytest.fixture(scope="module")
def example(site: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((site / "bhyve-smp" / "analysis.json").read_text())
    return doc


def test_schema_is_valid_and_documented_beside_the_results_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert (ROOT / "docs" / "analysis.schema.json").resolve() == \
        (ROOT / "reportgen" / "read" / "schemas" / "analysis.schema.json")


def test_every_example_validates(site: Path) -> None:
    for slug in ("bhyve-smp", "firecracker-aa", "qemu-tcg"):
        VALIDATOR.validate(json.loads((site / slug / "analysis.json").read_text()))


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return read_inputs(ROOT / "reports" / "bhyve-smp")


def test_example_content(example: dict[str, Any]) -> None:
    assert example["format"] == "reportgen-analysis/1"
    assert example["report"] == {
        "slug": "bhyve-smp", "date": "2026-06-09", "baseline": "native",
        "environments": ["native", "guest"],
        "title": "FreeBSD guest on QEMU + bhyve with SMP: cost against the host"}
    comparisons = example["comparisons"]
    assert [c["metric"] for c in comparisons] == sorted(c["metric"] for c in comparisons)
    # the seven sections of report.yml show ten metrics: 1 + 1 + 1 + 1 + 4 + 1 + 1
    assert len(comparisons) == 10 and {c["env"] for c in comparisons} == {"guest"}
    getpid = next(c for c in comparisons if c["metric"] == "syscall.getpid")
    # By hand from results/*.json, one sample in each of five rounds a side:
    # native 45.8 45.9 46.0 46.1 46.3 ns, median 46.0; guest 181.2 181.7 182.0
    # 182.4 183.0 ns, median 182.0; lower is better, so s = 182.0 / 46.0.
    # Every guest round is above every native one: U is at its extreme, the
    # exact two-sided p is 2 / C(10, 5) = 2/252. Nine of the ten metrics have
    # that p (all but memory.dd_zero), so Benjamini-Hochberg makes each
    # 2/252 * 10/9. s >= 3: the badge is ~round(s)x; 1.15 <= s < 10: moderate.
    s = 182.0 / 46.0
    assert {k: v for k, v in getpid.items() if k not in ("slowdown", "p_value", "interval")} == {
        "metric": "syscall.getpid", "name": "getpid() latency", "env": "guest",
        "verdict": "worse", "label": "~4x", "words": "~4x slower", "tier": "moderate",
        "rounds": {"baseline": 5, "env": 5}, "samples": {"baseline": 5, "env": 5},
        "reason": None, "rule": None}
    assert getpid["slowdown"] == pytest.approx(s, rel=1e-5)
    assert getpid["p_value"] == pytest.approx(2 / 252 * 10 / 9, rel=1e-5)
    # A bootstrap median lies between the smallest and the largest sample, so
    # every draw of s, and both ends of the interval, lie within
    # 181.2 / 46.3 .. 183.0 / 45.8.
    low, high = getpid["interval"]
    assert 181.2 / 46.3 <= low < s < high <= 183.0 / 45.8
    verdicts = {c["metric"]: c["verdict"] for c in comparisons}
    # cached read: 100 -> 106, higher is better, so s = 100/106 < 1
    assert verdicts["disk.cached_read"] == "better"
    assert verdicts["memory.dd_zero"] == "same"


def test_every_comparison_recomputed_from_the_results(example: dict[str, Any],
                                                      inputs: Inputs) -> None:
    comparisons = example["comparisons"]
    raw = {}
    for c in comparisons:
        base, guest = inputs.pair(c["metric"], "guest")
        assert c["samples"] == {"baseline": len(base.samples), "env": len(guest.samples)}
        assert c["rounds"] == {"baseline": base.round_count, "env": guest.round_count}
        assert c["slowdown"] == pytest.approx(inputs.slowdown(c["metric"], "guest"), rel=1e-5)
        raw[c["metric"]] = mann_whitney_p(base.round_medians(), guest.round_medians())
    adjusted = benjamini_hochberg(raw)
    for c in comparisons:
        assert c["p_value"] == pytest.approx(adjusted[c["metric"]], rel=1e-5), c["metric"]


def test_headline_figures_recomputed_from_the_results(site: Path, example: dict[str, Any],
                                                      inputs: Inputs) -> None:
    slowdowns = {c["metric"]: inputs.slowdown(c["metric"], "guest")
                 for c in example["comparisons"]}
    (h,) = example["headline"]
    # Every comparison is same, worse or better (five rounds a side; the
    # verdicts are checked above and in test_golden_invariants), so all ten
    # enter the mean, and with no noise band of their own each lands in the
    # tier its slowdown gives: below 1.15 negligible (cpu.integer 1.08,
    # memory.dd_zero 1.006, disk.cached_read 0.943), below 10 moderate
    # (getpid 3.96 and the four sysbench metrics, 1.56 to 2.44), and severe
    # (disk.write_fsync 18.8, process.fork_wait 65.8).
    assert h["env"] == "guest" and h["included"] == 10
    assert h["counts"] == {
        "negligible": sum(s < 1.15 for s in slowdowns.values()),
        "moderate": sum(1.15 <= s < 10 for s in slowdowns.values()),
        "severe": sum(s >= 10 for s in slowdowns.values()),
        "inconclusive": 0, "not-comparable": 0}
    assert h["counts"] == {"negligible": 3, "moderate": 5, "severe": 2, "inconclusive": 0,
                           "not-comparable": 0}
    mean = geometric_mean(slowdowns.values())
    assert h["geomean"] == pytest.approx(mean, rel=1e-5)
    # the three largest, each s >= 3 so its badge is ~round(s)x
    largest = sorted(slowdowns, key=lambda m: -slowdowns[m])[:3]
    assert largest == ["process.fork_wait", "disk.write_fsync", "syscall.getpid"]
    assert [(w["metric"], w["label"]) for w in h["worst"]] == [
        (m, f"~{round(slowdowns[m])}x") for m in largest]
    assert [w["label"] for w in h["worst"]] == ["~66x", "~19x", "~4x"]
    page = (site / "bhyve-smp" / "index.html").read_text()
    assert re.search(rf'<td class="num"[^>]*>{mean:.3g}x</td>', page)


def test_numbers_have_six_significant_digits_at_most(site: Path) -> None:
    text = (site / "bhyve-smp" / "analysis.json").read_text()
    for number in re.findall(r"\d+\.\d+", text):
        assert len(number.replace(".", "").lstrip("0")) <= 6, number


def test_untiered_verdicts_carry_their_reason_and_no_slowdown() -> None:
    a = analyse(report(environment("native", in_rounds("a", [10] * 5), in_rounds("b", [10] * 5),
                                   in_rounds("c", [10] * 5)),
                       environment("guest", in_rounds("a", [20] * 5), in_rounds("b", [30] * 5),
                                   in_rounds("c", [40] * 5))))
    doc = render_json.document(with_verdicts(a, {"b": "inconclusive", "c": "not-comparable"}))
    VALIDATOR.validate(doc)
    by_metric = {c["metric"]: c for c in doc["comparisons"]}
    assert (by_metric["b"]["verdict"], by_metric["b"]["tier"], by_metric["b"]["slowdown"],
            by_metric["b"]["reason"]) == ("inconclusive", "inconclusive", 3.0, "inconclusive here")
    assert (by_metric["c"]["slowdown"], by_metric["c"]["interval"], by_metric["c"]["reason"]) \
        == (None, None, "not-comparable here")
    assert doc["headline"][0]["geomean"] == 2.0
    assert doc["headline"][0]["counts"]["not-comparable"] == 1


@pytest.mark.parametrize(("change", "path"), [
    ({"verdict": "not-comparable", "tier": "not-comparable", "reason": "units"}, "slowdown"),
    ({"verdict": "inconclusive", "tier": "inconclusive"}, "reason"),
    ({"verdict": "same", "reason": "why"}, "reason"),
    ({"verdict": "same", "rule": "p"}, "rule"),
    ({"verdict": "inconclusive", "tier": "inconclusive", "reason": "why", "rule": None}, "rule"),
    ({"verdict": "inconclusive", "tier": "inconclusive", "reason": "why", "rule": "luck"},
     "rule"),
    ({"verdict": "worse", "tier": "inconclusive"}, "tier"),
    ({"verdict": "maybe"}, "verdict"),
    ({"interval": [1.0]}, "interval"),
])
def test_schema_refuses_inconsistent_entries(example: dict[str, Any], change: dict[str, Any],
                                             path: str) -> None:
    entry = {**example["comparisons"][0], **change}
    errors = VALIDATOR.iter_errors({**example, "comparisons": [entry]})
    assert path in {e.absolute_path[-1] for e in errors}


def test_written_whatever_the_formats(tmp_path: Path) -> None:
    root = project(tmp_path, formats="txt", reports=1)
    run(root)
    VALIDATOR.validate(json.loads((root / "output" / "r" / "analysis.json").read_text()))
    assert not (root / "output" / "index.html").exists()


def test_index_links_each_report_analysis(site: Path) -> None:
    index = (site / "index.html").read_text()
    for slug in ("bhyve-smp", "firecracker-aa", "qemu-tcg"):
        assert f'<a href="{slug}/analysis.json">analysis.json</a>' in index
        assert (site / slug / "analysis.json").is_file()


def test_incremental_build_carries_it_over(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    kept = root / "output" / "r1" / "analysis.json"
    before = kept.read_bytes(), kept.stat().st_ino
    report_yml = root / "reports" / "r" / "report.yml"
    report_yml.write_text(report_yml.read_text().replace("Done.", "Finished."))
    assert run(root).rendered == ["r"]
    assert (kept.read_bytes(), kept.stat().st_ino) == before
    assert (root / "output" / "r" / "analysis.json").is_file()
