"""Series: reports linked by `follows:` or listed in site.yml, their page,
series.json, the index, and what an edit renders again.

The reports are made here from hand-chosen samples: one environment, one
metric, ten rounds of three samples 1% apart around a level; the levels
100, 100, 150, 100 ns give, worked by hand, the steps "same", "worse (+50%)"
and "better (-33%)" (150 -> 100 is 100/150 - 1 = -33.3%), so the changes,
newest first, are report 4 (better) and report 3 (worse).
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from reportgen.core.model import SeriesSpec, Site
from reportgen.site import build, series
from tests.golden import cwd, run_build

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "series.schema.json").read_text())
LEVELS = (100.0, 100.0, 150.0, 100.0)
SVG = "{http://www.w3.org/2000/svg}"


def results(level: float, day: int) -> dict[str, object]:
    rounds = [{"round": r, "started_at": f"2026-03-{day:02d}T10:{r:02d}:00Z"} for r in range(1, 11)]
    samples = [level * (1 + 0.01 * (j - 1)) * (1 + 0.002 * (r % 3)) for r in range(1, 11)
               for j in range(3)]
    return {"format": "reportgen-results/2",
            "environment": {"label": "host", "description": "the machine"},
            "collected_at": rounds[0]["started_at"], "rounds": rounds,
            "probe_version": "0.2.0", "profile": "standard", "system": {"cpu_threads": 2},
            "metrics": [{"id": "syscall.getpid", "name": "getpid() latency", "unit": "ns",
                         "better": "lower", "samples": samples,
                         "sample_rounds": [r for r in range(1, 11) for _ in range(3)],
                         "status": "ok", "tool": "c-helper", "params": {"iterations": 1000}}]}


def report_yml(n: int, follows: str) -> str:
    return (f"title: Run {n}\ndate: 2026-03-{n:02d}\nbaseline: host\n"
            + (f"follows: {follows}\n" if follows else "")
            + "sections:\n  - title: getpid\n    metrics: [syscall.getpid]\n"
              "    analysis: |\n      The call took {{ syscall.getpid.host }}.\n")


def project(root: Path, *, follows: bool = True, listed: bool = False) -> Path:
    """Four runs r1..r4 (each following the one before when ``follows``), and
    an unrelated report ``other``; ``listed``: site.yml lists r1..r4 as a series."""
    for n, level in enumerate(LEVELS, start=1):
        folder = root / "reports" / f"r{n}"
        (folder / "results").mkdir(parents=True)
        (folder / "results" / "host.json").write_text(json.dumps(results(level, n), indent=1))
        (folder / "report.yml").write_text(report_yml(n, f"r{n - 1}" if follows and n > 1 else ""))
    shutil.copytree(root / "reports" / "r1", root / "reports" / "other")
    site = "title: T\nreports: [reports/*]\nformats: [html, txt]\n"
    if listed:
        site += "series:\n  - title: Four runs\n    reports: [r1, r2, r3, r4]\n"
    (root / "site.yml").write_text(site)
    return root


def run(root: Path, output: str = "output") -> build.Result:
    with cwd(root):
        return build.build(Path("site.yml"), output_dir=Path(output), log=lambda _m: None)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("how", ["follows", "listed"])
def test_series_page_and_json(tmp_path: Path, how: str) -> None:
    root = project(tmp_path, follows=how == "follows", listed=how == "listed")
    run(root)
    folder = root / "output" / "series" / "r1"
    document = json.loads((folder / "series.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["series"] == {"id": "r1", "title": "Four runs" if how == "listed" else "Run 1"}
    assert [r["slug"] for r in document["reports"]] == ["r1", "r2", "r3", "r4"]
    (line,) = document["lines"]
    # the 15th and 16th of the 30 samples are both level x 1.00 x 1.002 (rounds 1, 4, 7, 10)
    assert [p["median"] for p in line["points"]] == pytest.approx(
        [x * 1.002 for x in LEVELS], rel=1e-5)
    assert [(s["from"], s["to"], s["verdict"], s["label"]) for s in line["steps"]] == [
        ("r1", "r2", "same", "same"), ("r2", "r3", "worse", "+50%"),
        ("r3", "r4", "better", "-33%")]
    assert [(c["to"], c["verdict"]) for c in document["changes"]] == [("r4", "better"),
                                                                        ("r3", "worse")]
    for p in line["points"]:
        assert p["interval"][0] < p["median"] < p["interval"][1]
    page = (folder / "index.html").read_text()
    assert page.index("Run 4") < page.index("Run 3")  # the list of changes: newest first
    # one item per report, naming the report it is compared with, its changes under it
    assert page.count("Run 4</a>, against report 3:\n<ul>\n<li>host: getpid() latency") == 1
    assert page.count("Run 3</a>, against report 2:\n<ul>\n<li>host: getpid() latency") == 1
    assert 'class="change change-worse"' in page and 'class="change change-better"' in page
    svg = (folder / "charts" / "trend.svg").read_bytes()
    # the worse step's mark on report 3, the better one's on report 4, none on 2
    assert b'id="series-r1-change-syscall.getpid-host-3"' in svg
    assert b'id="series-r1-change-syscall.getpid-host-4"' in svg
    assert b'id="series-r1-change-syscall.getpid-host-2"' not in svg
    assert b"#d55e00" in svg and b"#009e73" in svg
    index = (root / "output" / "index.html").read_text()
    assert 'href="series/r1/index.html"' in index
    assert "2026-03-04, report 4 (Run 4): host: getpid() latency better (-33%)" in index
    assert index.index("report 4 (Run 4)") < index.index("report 3 (Run 3)")
    assert not (root / "output" / "series" / "other").exists()


def test_trend_chart_puts_each_report_where_its_numbers_say(tmp_path: Path) -> None:
    """The panel's marks against series.json's numbers (the analysis', not the
    chart's): reports evenly spaced in order, each numbered under its mark; the
    hand-worked levels put reports 1, 2 and 4 at one height and report 3 above;
    the medians and interval bounds lie on one linear scale."""
    root = project(tmp_path)
    run(root)
    folder = root / "output" / "series" / "r1"
    (line,) = json.loads((folder / "series.json").read_text())["lines"]
    svg = ET.parse(folder / "charts" / "trend.svg").getroot()
    groups = {g.get("id"): g for g in svg.iter() if g.get("id")}
    name = "syscall.getpid-host"
    marks = (positions(groups[f"series-r1-points-{name}"])  # reports 1 and 2: the same
             + [positions(groups[f"series-r1-change-{name}-{n}"])[0] for n in (3, 4)])
    xs, ys = [x for x, _ in marks], [y for _, y in marks]
    assert xs[1] - xs[0] > 0
    assert xs[2] - xs[1] == pytest.approx(xs[1] - xs[0]) == pytest.approx(xs[3] - xs[2])
    assert ys[0] == pytest.approx(ys[1]) == pytest.approx(ys[3])
    assert ys[2] < ys[0]  # higher up the page: SVG's y grows downwards
    paths = " ".join(e.get("d", "") for e in groups[f"series-r1-intervals-{name}"].iter())
    bars = [tuple(map(float, b)) for b in
            re.findall(r"M ([-\d.]+) ([-\d.]+)\s+L ([-\d.]+) ([-\d.]+)", paths)]
    assert len(bars) == 4
    # points per unit of the metric, from report 3's height over the others
    scale = (ys[0] - ys[2]) / (line["points"][2]["median"] - line["points"][0]["median"])
    for (x, y), (low_x, low_y, high_x, high_y), p in zip(marks, bars, line["points"]):
        assert low_x == high_x == pytest.approx(x)
        low, high = p["interval"]
        assert low_y - y == pytest.approx((p["median"] - low) * scale, rel=1e-3)
        assert y - high_y == pytest.approx((high - p["median"]) * scale, rel=1e-3)
    numbers = {t.text: float(t.get("x", "nan")) for t in svg.iter(f"{SVG}text")
               if t.text in ("1", "2", "3", "4")}
    assert [numbers[str(n)] for n in range(1, 5)] == pytest.approx(xs)


def positions(group: ET.Element) -> list[tuple[float, float]]:
    """(x, y) of each marker drawn in ``group``, in order."""
    return [(float(e.get("x", "nan")), float(e.get("y", "nan")))
            for e in group.iter(f"{SVG}use")]


def test_series_links_and_order(tmp_path: Path) -> None:
    """Order by date, then down the chain of follows:, then site.yml's list."""
    dirs = tuple(tmp_path / n for n in ("a", "b", "c", "d", "e"))
    for d in dirs:
        d.mkdir()
    listed = {"a": ["", None, "", "2026-01-02"], "b": ["", None, "a", "2026-01-02"],
              "c": ["", None, "b", "2026-01-01"], "d": ["", None, "", "2026-01-05"],
              "e": ["", None, "", "2026-01-03"]}
    site = Site("T", "", dirs, ("txt",), tmp_path / "o", tmp_path / "o" / "a", tmp_path,
                series=(SeriesSpec("S", ("d", "e")),))
    links = series.links(site, listed)
    # c is dated first although it follows b, which follows a: dates win
    assert [s.slugs for s in links.series] == [("c", "a", "b"), ("e", "d")]
    assert links.before == {"a": "c", "b": "a", "d": "e"}
    assert links.follows == {"b": "a", "c": "b"}
    inputs = {n: n * 3 for n in "abcde"}
    assert links.chained("b", inputs) != links.chained("b", {**inputs, "a": "x"})
    assert links.chained("d", inputs) == links.chained("d", {**inputs, "a": "x"})


@pytest.mark.parametrize(("edit", "rendered"), [
    ("prose", ["r2", "r3"]),  # r3 follows r2 and comes after it
    ("data", ["r2", "r3"]),
    ("other", ["other"]),
])
def test_an_edit_renders_the_report_what_follows_it_and_its_series(
        tmp_path: Path, edit: str, rendered: list[str]) -> None:
    root = project(tmp_path / "p")
    assert sorted(run(root).rendered) == ["other", "r1", "r2", "r3", "r4"]
    trend = root / "output" / "series" / "r1" / "charts" / "trend.svg"
    before = trend.read_bytes()
    if edit == "data":
        path = root / "reports" / "r2" / "results" / "host.json"
        path.write_text(json.dumps(results(120.0, 2), indent=1))
    else:
        path = root / "reports" / ("r2" if edit == "prose" else "other") / "report.yml"
        path.write_text(path.read_text().replace("The call took", "The call took, again,"))
    assert sorted(run(root).rendered) == rendered
    assert (trend.read_bytes() != before) == (edit == "data")  # drawn again only then
    assert sorted(run(root, "cold").rendered) == ["other", "r1", "r2", "r3", "r4"]
    incremental, cold = files(root / "output"), files(root / "cold")
    assert sorted(incremental) == sorted(cold)
    assert [name for name in cold if incremental[name] != cold[name]] == []


def test_series_names_a_missing_report(tmp_path: Path) -> None:
    root = project(tmp_path, follows=False)
    (root / "site.yml").write_text("reports: [reports/*]\nformats: [txt]\n"
                                   "series:\n  - title: S\n    reports: [r1, r11]\n")
    status, stderr = run_build(root)
    assert (status, stderr) == (2, ("site.yml:5:19: series: no report 'r11' in this site "
                                   "(did you mean 'r1'?)\n"))


def test_index_entry_counts_the_changes_of_a_report_with_many() -> None:
    # hand-made: report 3 has three changes (two worse, one better), report 2 one
    from reportgen.analyse.series_view import Line, Member, Step, View
    from reportgen.render.series import index_entry

    def line(metric: str, *verdicts: str) -> Line:
        steps = tuple(Step(f"r{n}", f"r{n + 1}", v, "+10%", f"{v} (+10%)", 0.1, 0.01, None)
                      for n, v in enumerate(verdicts, start=1))
        return Line(metric, metric.upper(), "ns", "lower", "host",
                    tuple((f"r{n}", 1.0, None) for n in (1, 2, 3)), steps)

    members = tuple(Member(f"r{n}", f"Run {n}", f"2026-01-0{n}", {}) for n in (1, 2, 3))
    view = View("r1", "S", members, (line("a", "worse", "worse"), line("b", "same", "better"),
                                     line("c", "same", "worse")))
    entry = index_entry(view, "series/r1")
    assert entry.latest == ("2026-01-03, report 3 (Run 3): 2 worse, 1 better",
                            "2026-01-02, report 2 (Run 2): host: A worse (+10%)")
