"""`follows:`: a report against the earlier report it follows, in every format.

The expectations are worked out by hand from the results files: the "now"
report is the bhyve-smp example with the guest's getpid() and fork()+wait
samples multiplied by 0.62, so each median moves by exactly -38%, every
round of "now" lies below every round of "then" (exact rank test, 5 rounds
a side: p = 2/C(10,5) = 2/252), and the Benjamini-Hochberg adjustment over
the guest's ten metrics, two of which moved, gives p = 2/252 x 10/2 = 10/252.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import subprocess
from pathlib import Path

import jsonschema
import pytest

from reportgen.analyse.analysis import analyse
from reportgen.analyse.since import since_part
from reportgen.check.figures import measured
from reportgen.core.model import Round, Thresholds
from reportgen.core.placeholders import PlaceholderError, Scope, parse
from reportgen.site import build
from tests import factories as f
from tests.golden import cwd

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "reports" / "bhyve-smp"
SCHEMA = json.loads((ROOT / "docs" / "analysis.schema.json").read_text())
FACTOR = 0.62
MOVED = ("syscall.getpid", "process.fork_wait")
PROSE = ("  SMP cut fork's cost by 38% ({{ since.process.fork_wait.guest.change }} since the "
         "single-CPU run, then {{ since.process.fork_wait.guest }}).\n")


def project(root: Path) -> Path:
    """Two reports: ``then`` (the example as it is) and ``now``, which follows it."""
    shutil.copytree(EXAMPLE, root / "reports" / "then")
    shutil.copytree(EXAMPLE, root / "reports" / "now")
    guest = root / "reports" / "now" / "results" / "guest.json"
    data = json.loads(guest.read_text())
    for metric in data["metrics"]:
        if metric["id"] in MOVED:
            metric["samples"] = [x * FACTOR for x in metric["samples"]]
    guest.write_text(json.dumps(data, indent=1))
    yml = root / "reports" / "now" / "report.yml"
    text = yml.read_text().replace("baseline: native\n", "baseline: native\nfollows: then\n", 1)
    yml.write_text(text.replace("\nsummary: |\n", "\nsummary: |\n" + PROSE, 1))
    (root / "site.yml").write_text("title: T\nreports: [reports/*]\nformats: [html, pdf, txt, md]\n")
    return root


def medians(report: str, label: str) -> dict[str, float]:
    data = json.loads((EXAMPLE / "results" / f"{label}.json").read_text())
    scale = FACTOR if report == "now" and label == "guest" else 1.0
    return {m["id"]: statistics.median(m["samples"]) * (scale if m["id"] in MOVED else 1.0)
            for m in data["metrics"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = project(tmp_path_factory.mktemp("since"))
    with cwd(root):
        result = build.build(Path("site.yml"), log=lambda _m: None)
    assert sorted(result.rendered) == ["now", "then"]
    return root / "output"


def test_since_in_analysis_json(built: Path) -> None:
    document = json.loads((built / "now" / "analysis.json").read_text())
    jsonschema.validate(document, SCHEMA)
    since = document["since"]
    assert since["report"] == {"slug": "then", "date": "2026-06-09", "title":
                               "FreeBSD guest on QEMU + bhyve with SMP: cost against the host"}
    rows = {(c["metric"], c["env"]): c for c in since["comparisons"]}
    fork = rows["process.fork_wait", "guest"]
    assert fork["verdict"] == "better" and fork["label"] == "-38%"
    assert fork["slowdown"] == pytest.approx(FACTOR, rel=1e-5)
    assert fork["p_value"] == pytest.approx(10 / 252, rel=1e-5)
    assert fork["then"] == pytest.approx(medians("then", "guest")["process.fork_wait"], rel=1e-5)
    assert fork["rounds"] == {"baseline": 5, "env": 5}
    # native did not change at all: not a difference, whatever the bootstrap says
    assert all(c["verdict"] in ("same", "inconclusive") for c in since["comparisons"]
               if c["env"] == "native")
    moved = {(m["metric"], m["env"]): m for m in since["slowdowns"]}
    then_native, then_guest = medians("then", "native"), medians("then", "guest")
    assert moved["process.fork_wait", "guest"]["then"] == pytest.approx(
        then_guest["process.fork_wait"] / then_native["process.fork_wait"], rel=1e-5)
    assert moved["process.fork_wait", "guest"]["now"] == pytest.approx(
        FACTOR * then_guest["process.fork_wait"] / then_native["process.fork_wait"], rel=1e-5)
    assert not (json.loads((built / "then" / "analysis.json").read_text())).get("since")


def test_since_in_text_and_markdown(built: Path) -> None:
    # 5728 us x 0.62 = 3551.36 us; 65.8x x 0.62 = 40.8x (medians 5728 and 87 us)
    line = "- guest: fork()+wait latency 5,730 µs -> 3,550 µs, better (-38%); now/then 0.620x"
    fork_moved = "- guest: fork()+wait latency 65.8x -> 40.8x"
    txt = " ".join((built / "now" / "report.txt").read_text().split())  # lines are wrapped
    heading = "Since FreeBSD guest on QEMU + bhyve with SMP: cost against the host (2026-06-09)"
    assert heading in txt and line in txt and fork_moved in txt
    assert "SMP cut fork's cost by 38% (-38% since the single-CPU run, then 5,730 µs)" in txt
    md = (built / "now" / "report.md").read_text().replace("\\", "")  # Markdown escapes
    assert f"## {heading}" in md
    assert "| guest | fork()+wait latency | 5,730 µs | 3,550 µs | better (-38%) |" in md
    assert "| guest | fork()+wait latency | 65.8x | 40.8x |" in md
    assert "Since" not in (built / "then" / "report.txt").read_text()


def test_since_in_html_and_pdf(built: Path) -> None:
    html = (built / "now" / "index.html").read_text()
    assert 'id="since"' in html and "65.8x -&gt; 40.8x" in html
    assert 'href="../then/index.html"' in html
    assert 'id="since"' not in (built / "then" / "index.html").read_text()
    pdf = " ".join(subprocess.run(["pdftotext", str(built / "now" / "report.pdf"), "-"],
                                  capture_output=True, text=True, check=True).stdout.split())
    assert "Since FreeBSD guest" in pdf and "40.8x" in pdf
    assert "-38% since the single-CPU run" in pdf


def test_hand_typed_since_figure_is_known(built: Path) -> None:
    root = built.parent
    from reportgen.check import checks

    analysis, warnings = checks.analysed(root / "reports" / "now",
                                         reports=(root / "reports" / "now", root / "reports" / "then"))
    assert not [w for w in warnings if "38%" in w.message]
    assert any(x.what == "process.fork_wait in guest since then, change" for x in measured(analysis))


# --- the rules on model data, worked by hand --------------------------------------

def ten_rounds(metric_id: str, level: float, **extra: object) -> f.Metric:
    """Ten rounds of one sample each, 0.2% apart around ``level``, their median."""
    return f.metric(metric_id, [level * (1 + 0.002 * (i - 4.5)) for i in range(10)],
                    rounds=tuple(range(1, 11)), **extra)


def test_since_rules_same_worse_and_not_comparable() -> None:
    then = f.report(f.environment("native", ten_rounds("a", 100), ten_rounds("b", 100),
                                  ten_rounds("c", 100, tool="c-helper")),
                    f.environment("guest", ten_rounds("a", 100), ten_rounds("b", 100),
                                  ten_rounds("c", 100, tool="c-helper")))
    now = f.report(f.environment("native", ten_rounds("a", 100), ten_rounds("b", 150),
                                 ten_rounds("c", 100, tool="python-fallback")),
                   f.environment("guest", ten_rounds("a", 100), ten_rounds("b", 100),
                                 ten_rounds("c", 100, tool="c-helper")))
    found = since_part(now, then, {}, {})
    words = {(r.env, r.metric_id): r.words for r in found.rows}
    # identical samples: the interval of now/then stays well inside +-3%
    assert words["native", "a"] == "same"
    # 150 against 100: +50%, every round of now above every round of then
    assert words["native", "b"] == "worse (+50%)"
    assert words["native", "c"] == ("not comparable (tool c-helper vs python-fallback "
                                    "(t/results/native.json vs t/results/native.json))")
    assert found.row("b", "native").text == "native: b 100 ns -> 150 ns, worse (+50%)"
    # ten rounds a side, raw p from the normal approximation, adjusted over 2 tested metrics
    assert found.row("b", "native").comparison.p_value < 0.001


def test_since_does_not_apply_the_drift_rule() -> None:
    """Rounds of then all before those of now: within a report the drift rule
    would weigh them; since, the change over time is what is measured."""
    def timed(level: float, hour: int) -> f.Environment:
        env = f.environment("native", ten_rounds("a", level))
        return dataclasses.replace(env, rounds=tuple(
            Round(i, f"2026-01-01T{hour:02d}:{i:02d}:00Z") for i in range(1, 11)))

    found = since_part(f.report(timed(100, 10)), f.report(timed(150, 9)), {}, {})
    assert found.row("a", "native").comparison.verdict == "better"


def test_since_label_for_large_factors() -> None:
    then = f.report(f.environment("native", ten_rounds("a", 100), ten_rounds("b", 100)))
    now = f.report(f.environment("native", ten_rounds("a", 400), ten_rounds("b", 25)),
                   thresholds=Thresholds())
    found = since_part(now, then, {}, {})
    assert found.row("a", "native").comparison.label == "~4x worse"
    assert found.row("b", "native").comparison.label == "~4x better"


def test_since_placeholders_resolve_and_refuse() -> None:
    then = f.report(f.environment("native", ten_rounds("a", 100)),
                    f.environment("guest", ten_rounds("a", 200)))
    now_text = ("{{ since.a.guest }} then, {{ since.a.guest.change }}; native "
                "{{ since.a.native.label }}")
    now = f.report(f.environment("native", ten_rounds("a", 100)),
                   f.environment("guest", ten_rounds("a", 100)))
    now = dataclasses.replace(now, summary=f.text(now_text))
    analysis = analyse(now, earlier=then)
    assert analysis.summary == "200 ns then, -50%; native same"
    scope = Scope({"a"}, ["native", "guest"], "native")
    with pytest.raises(PlaceholderError, match=r"'\{\{ since\.a\.guest \}\}' compares with an "
                                               r"earlier report, but report.yml names none"):
        parse("since.a.guest", scope)
    with_since = Scope({"a"}, ["native", "guest"], "native", Scope({"a"}, ["native", "guest"], ""))
    assert parse("since.a.native.ratio", with_since).since
    with pytest.raises(PlaceholderError, match=r"unknown placeholder '\{\{ since\.b\.guest \}\}'"):
        parse("since.b.guest", with_since)
