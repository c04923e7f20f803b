"""Numbers in prose: the placeholder grammar, its errors and its output."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen import figures
from reportgen.analysis import analyse
from reportgen.load import load_report
from reportgen.model import Section, SectionMetric
from reportgen.placeholders import PlaceholderError, Ref, Scope, find, parse
from tests.factories import environment, metric, report, text

ROOT = Path(__file__).resolve().parent.parent
SCOPE = Scope({"syscall.getpid", "memory.sysbench.read.t1"}, ["native", "guest"], "native")


@pytest.mark.parametrize(("expr", "ref"), [
    ("syscall.getpid.guest", Ref("syscall.getpid", "guest", "value")),
    ("syscall.getpid.native", Ref("syscall.getpid", "native", "value")),
    ("syscall.getpid.ratio", Ref("syscall.getpid", "guest", "ratio")),
    ("syscall.getpid.guest.delta", Ref("syscall.getpid", "guest", "delta")),
    ("memory.sysbench.read.t1.label", Ref("memory.sysbench.read.t1", "guest", "label")),
    ("system.guest.os_release", Ref(None, "guest", "os_release")),
    ("system.native.tools.cc", Ref(None, "native", "tools.cc")),
])
def test_grammar(expr: str, ref: Ref) -> None:
    assert parse(expr, SCOPE) == ref


@pytest.mark.parametrize(("expr", "message"), [
    ("syscall.getpid", "placeholder '{{ syscall.getpid }}' needs an environment: one of native, guest"),
    ("syscall.getpid.native.ratio",
     "placeholder '{{ syscall.getpid.native.ratio }}': the baseline 'native' is not compared with itself"),
    ("__class__", "unknown placeholder '{{ __class__ }}': no metric named '__class__'"),
    ("a + b", ("malformed placeholder '{{ a + b }}': expected dotted names such as "
               "{{ syscall.getpid.guest }}")),
    ("syscall.getpid.guest.ratio.x",
     ("unknown placeholder '{{ syscall.getpid.guest.ratio.x }}': 'ratio' is neither an "
      "environment (native, guest) nor a field (value, ratio, delta, change, label, tier, "
      "interval) (did you mean 'ratio'?)")),
])
def test_errors(expr: str, message: str) -> None:
    with pytest.raises(PlaceholderError) as caught:
        parse(expr, SCOPE)
    assert caught.value.message == message


def test_several_environments_must_be_named() -> None:
    scope = Scope({"m"}, ["native", "kvm", "bhyve"], "native")
    with pytest.raises(PlaceholderError, match="must name the environment"):
        parse("m.ratio", scope)
    assert parse("m.kvm.ratio", scope) == Ref("m", "kvm", "ratio")


def test_unclosed_placeholder() -> None:
    with pytest.raises(PlaceholderError, match="never closed"):
        list(find("text {{ syscall.getpid.guest"))


def test_resolved_figures_in_the_example() -> None:
    analysis = analyse(load_report(ROOT / "reports" / "bhyve-smp").report)
    getpid = analysis.sections[1].analysis
    assert "returns in 46 ns" in getpid
    assert "takes 182 ns" in getpid
    assert "+136 ns" in getpid
    assert "costs 3.96x as much" in getpid
    fork = analysis.sections[2].analysis
    assert "87 us on the host" in fork and "5728 us in the guest" in fork
    assert "from 413 MB/s to\n22 MB/s" in analysis.sections[5].analysis
    assert dict(analysis.system)["VM cfg"] == ("QEMU + bhyve accelerator, 8 vCPU, 4 GiB RAM, "
                                               "virtio-blk disk")


def test_substituted_values_cannot_inject_markdown() -> None:
    native = environment("native", metric("m", [1.0], unit="*x*"))
    guest = environment("guest", metric("m", [2.0], unit="*x*"))
    section = Section("s", (SectionMetric("m", "m"),), text("It took {{ m.guest }}."))
    assert analyse(report(native, guest, sections=[section])).sections[0].analysis == \
        r"It took 2 \*x\*."


@pytest.mark.parametrize(("value", "expected"), [
    (46.0, "46"), (182.04, "182"), (5728.4, "5728"), (3.9565, "3.96"), (65.84, "65.8"),
    (0.12345, "0.123"), (22.0, "22"), (0.0, "0"),
])
def test_number_precision(value: float, expected: str) -> None:
    assert figures.number(value) == expected


def test_figure_helpers() -> None:
    assert figures.quantity(46, "ns") == "46 ns"
    assert figures.signed_quantity(-136.2, "ns") == "-136 ns"
    assert figures.percent(0.004) == "+0.4%"
    assert figures.percent(-0.36) == "-36%"
    assert figures.memory(4 * 2**30) == "4 GiB"
    assert figures.interval((3.93, 3.98)) == "3.93x to 3.98x"
    assert figures.interval(None) == ""
