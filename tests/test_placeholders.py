"""Numbers in prose: the placeholder grammar, its errors and its output."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.analyse.analysis import analyse
from reportgen.core.model import Section, SectionMetric
from reportgen.core.placeholders import PlaceholderError, Ref, Scope, find, parse
from reportgen.read.report_yml import load_report
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
    assert "returns in 46.0 ns" in getpid
    assert "takes 182 ns" in getpid
    assert "+136 ns" in getpid
    assert "costs 3.96x as much" in getpid
    fork = analysis.sections[2].analysis
    assert "87.0 µs on the host" in fork and "5,730 µs in the guest" in fork
    assert "from 413 MB/s to\n22.0 MB/s" in analysis.sections[5].analysis
    assert dict(analysis.system)["VM cfg"] == ("QEMU + bhyve accelerator, 8 vCPU, 4 GiB RAM, "
                                               "virtio-blk disk")


def test_substituted_values_cannot_inject_markdown() -> None:
    native = environment("native", metric("m", [1.0], unit="*x*"))
    guest = environment("guest", metric("m", [2.0], unit="*x*"))
    section = Section("s", (SectionMetric("m", "m"),), text("It took {{ m.guest }}."))
    assert analyse(report(native, guest, sections=[section])).sections[0].analysis == \
        r"It took 2.00 \*x\*."
