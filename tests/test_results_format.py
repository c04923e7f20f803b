"""Results format version 2 (rounds), version 1 read as one round, and pooling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reportgen.core.errors import InputError
from reportgen.read import results
from reportgen.read.report_yml import load_report
from reportgen.read.results import load_results
from reportgen.render import pdf as render_pdf
from tests.golden import ERRORS, lay_out, run_build


def doc(started: list[str], samples: list[list[float]], **metric: Any) -> dict[str, Any]:
    """A version 2 document with one metric, one list of samples per round."""
    return {
        "format": results.FORMAT,
        "environment": {"label": "guest"},
        "collected_at": started[0],
        "rounds": [{"round": i, "started_at": s} for i, s in enumerate(started, start=1)],
        "metrics": [{"id": "syscall.getpid", "name": "getpid()", "unit": "ns",
                     "better": "lower", "status": "ok", "tool": "c-helper",
                     "samples": [x for r in samples for x in r],
                     "sample_rounds": [i for i, r in enumerate(samples, start=1) for _ in r],
                     **metric}],
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "guest.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def test_version_1_is_one_round_started_when_collected(tmp_path: Path) -> None:
    data = doc(["2026-01-01T00:00:00Z"], [[1.0, 2.0]])
    data["format"] = results.FORMAT_V1
    del data["rounds"]
    del data["metrics"][0]["sample_rounds"]
    env, _ = load_results(write(tmp_path, data), "results/guest.json")
    assert [(r.number, r.started_at) for r in env.rounds] == [(1, "2026-01-01T00:00:00Z")]
    assert env.metrics["syscall.getpid"].round_numbers == (1, 1)


def test_version_2_keeps_the_round_of_each_sample(tmp_path: Path) -> None:
    data = doc(["2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"], [[1.0, 2.0], [3.0]])
    env, _ = load_results(write(tmp_path, data), "results/guest.json")
    assert env.metrics["syscall.getpid"].rounds == (1, 1, 2)
    assert env.file_names == ("results/guest.json",)


def test_version_2_needs_rounds(tmp_path: Path) -> None:
    data = doc(["2026-01-01T00:00:00Z"], [[1.0]])
    del data["rounds"]
    with pytest.raises(InputError) as caught:
        load_results(write(tmp_path, data), "results/guest.json")
    assert [p.message for p in caught.value.problems] == [
        "the document: missing required key 'rounds'"]


@pytest.mark.parametrize(("rounds", "message"), [
    ([1], "metrics[0].sample_rounds: 1 rounds for 2 samples"),
    ([1, 3], "metrics[0].sample_rounds: round 3 is not declared under 'rounds'"),
])
def test_every_sample_names_a_declared_round(tmp_path: Path, rounds: list[int],
                                             message: str) -> None:
    data = doc(["2026-01-01T00:00:00Z"], [[1.0, 2.0]])
    data["metrics"][0]["sample_rounds"] = rounds
    with pytest.raises(InputError) as caught:
        load_results(write(tmp_path, data), "results/guest.json")
    assert [p.message for p in caught.value.problems] == [message]


def test_pool_orders_rounds_by_start_and_renumbers_them() -> None:
    later = doc(["2026-01-02T00:00:00Z"], [[5.0, 6.0]])
    earlier = doc(["2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"], [[1.0], [2.0]])
    pooled = results.pool([later, earlier])
    assert pooled["rounds"] == [
        {"round": 1, "started_at": "2026-01-01T00:00:00Z"},
        {"round": 2, "started_at": "2026-01-01T00:05:00Z"},
        {"round": 3, "started_at": "2026-01-02T00:00:00Z"},
    ]
    metric = pooled["metrics"][0]
    assert metric["samples"] == [1.0, 2.0, 5.0, 6.0]
    assert metric["sample_rounds"] == [1, 2, 3, 3]
    assert pooled["collected_at"] == "2026-01-01T00:00:00Z"


def test_pool_upgrades_version_1() -> None:
    old = doc(["2026-01-01T00:00:00Z"], [[1.0]])
    old["format"] = results.FORMAT_V1
    del old["rounds"]
    del old["metrics"][0]["sample_rounds"]
    pooled = results.pool([old, doc(["2026-01-03T00:00:00Z"], [[2.0]])])
    assert pooled["format"] == results.FORMAT
    assert pooled["metrics"][0]["sample_rounds"] == [1, 2]


def test_pool_refuses_metrics_measured_differently() -> None:
    a = doc(["2026-01-01T00:00:00Z"], [[1.0]])
    b = doc(["2026-01-02T00:00:00Z"], [[1.0]], tool="python-fallback")
    with pytest.raises(results.PoolError, match="^metric 'syscall.getpid' was measured with a "
                       "different tool \\('c-helper' and 'python-fallback'\\)$"):
        results.pool([a, b])


def test_pool_keeps_ok_rounds_when_another_run_failed() -> None:
    ok = doc(["2026-01-01T00:00:00Z"], [[1.0]])
    failed = doc(["2026-01-02T00:00:00Z"], [[]], status="failed", error="boom")
    pooled = results.pool([failed, ok])
    metric = pooled["metrics"][0]
    assert (metric["status"], metric["samples"], "error" in metric) == ("ok", [1.0], False)


def pooled_project(tmp_path: Path) -> Path:
    """The error tests' base project with a second guest file, taken an hour later."""
    project = lay_out(ERRORS / "_base", tmp_path / "project")
    results_dir = project / "reports" / "r" / "results"
    later = json.loads((results_dir / "guest.json").read_text())
    later["collected_at"] = "2026-01-01T01:00:00Z"
    later["metrics"][0]["samples"] = [190.0, 191.0]
    (results_dir / "guest-2.json").write_text(json.dumps(later, indent=2))
    return project


def test_files_of_one_label_are_pooled_as_rounds(tmp_path: Path) -> None:
    report_dir = pooled_project(tmp_path) / "reports" / "r"
    report = load_report(report_dir).report
    guest = report.environment("guest")
    assert guest.file_names == ("results/guest-2.json", "results/guest.json")
    assert [(r.number, r.started_at) for r in guest.rounds] == [
        (1, "2026-01-01T00:00:00Z"), (2, "2026-01-01T01:00:00Z")]
    getpid = guest.metrics["syscall.getpid"]
    assert getpid.samples == (182.0, 181.0, 183.0, 190.0, 191.0)
    assert getpid.rounds == (1, 1, 1, 2, 2)
    assert [f.name for f in report.inputs] == [
        "report.yml", "results/guest-2.json", "results/guest.json", "results/native.json"]
    attached = render_pdf.pdf_inputs(report)[1]
    assert [(a.name, a.content) for a in attached] == [(f.name, f.content)
                                                       for f in report.inputs]
    assert report.data_files() == [("native.json", "results/native.json"),
                                  ("guest.1.json", "results/guest-2.json"),
                                  ("guest.2.json", "results/guest.json")]


def test_build_copies_every_pooled_file(tmp_path: Path) -> None:
    project = pooled_project(tmp_path)
    assert run_build(project)[0] == 0
    data = project / "output" / "r" / "data"
    source = project / "reports" / "r" / "results"
    assert sorted(p.name for p in data.iterdir()) == ["guest.1.json", "guest.2.json",
                                                       "native.json"]
    assert (data / "guest.1.json").read_bytes() == (source / "guest-2.json").read_bytes()
    assert (data / "guest.2.json").read_bytes() == (source / "guest.json").read_bytes()
