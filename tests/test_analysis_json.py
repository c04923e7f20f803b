"""analysis.json: valid against its schema, true to the analysis, written for
every build, linked from the index and carried over by incremental builds."""

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
    for slug in ("bhyve-smp", "firecracker-aa"):
        VALIDATOR.validate(json.loads((site / slug / "analysis.json").read_text()))


def test_example_content(example: dict[str, Any]) -> None:
    assert example["format"] == "reportgen-analysis/1"
    assert example["report"] == {"slug": "bhyve-smp", "date": "2026-06-09", "baseline": "native",
                                 "environments": ["native", "guest"],
                                 "title": example["report"]["title"]}
    comparisons = example["comparisons"]
    assert [c["metric"] for c in comparisons] == sorted(c["metric"] for c in comparisons)
    assert len(comparisons) == 10 and {c["env"] for c in comparisons} == {"guest"}
    getpid = next(c for c in comparisons if c["metric"] == "syscall.getpid")
    assert getpid == {
        "metric": "syscall.getpid", "name": "getpid() latency", "env": "guest",
        "verdict": "worse", "label": "~4x", "tier": "moderate", "slowdown": 3.95652,
        "interval": getpid["interval"], "p_value": 0.00881834,
        "rounds": {"baseline": 5, "env": 5}, "samples": {"baseline": 5, "env": 5},
        "reason": None}
    low, high = getpid["interval"]
    assert low < 3.95652 < high
    assert {c["metric"]: c["verdict"] for c in comparisons}["disk.cached_read"] == "better"
    assert {c["metric"]: c["verdict"] for c in comparisons}["memory.dd_zero"] == "same"


def test_headline_figures_match_the_page(site: Path, example: dict[str, Any]) -> None:
    (h,) = example["headline"]
    assert h["env"] == "guest" and h["included"] == 10
    assert h["counts"] == {"negligible": 3, "moderate": 5, "severe": 2, "inconclusive": 0,
                           "not-comparable": 0}
    assert [(w["metric"], w["label"]) for w in h["worst"]] == [
        ("process.fork_wait", "~66x"), ("disk.write_fsync", "~19x"), ("syscall.getpid", "~4x")]
    page = (site / "bhyve-smp" / "index.html").read_text()
    assert f'<td class="num">{h["geomean"]:.3g}x</td>' in page


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
    for slug in ("bhyve-smp", "firecracker-aa"):
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
