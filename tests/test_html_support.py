"""Reports built straight from the model, for the HTML and chart tests.

Small on purpose: a single-metric section, a two-metric section, a metric that
failed in one environment, and a third environment when asked for.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from reportgen.core.model import (
    ConclusionItem,
    Environment,
    Metric,
    Report,
    Section,
    SectionMetric,
    SystemRow,
)
from tests.factories import text

# id: (name, unit, better, {env: median})
FIGURES: dict[str, tuple[str, str, str, dict[str, float]]] = {
    "syscall.getpid": ("getpid() latency", "ns", "lower",
                       {"native": 46, "guest": 182, "jail": 46.2}),
    "memory.sysbench.write.t1": ("sysbench memory write", "MiB/s", "higher",
                                 {"native": 9000, "guest": 5760, "jail": 8950}),
    "memory.sysbench.read.t1": ("sysbench memory read", "MiB/s", "higher",
                                {"native": 12000, "guest": 6240, "jail": 12100}),
    "disk.write_fsync": ("write+fsync throughput", "MB/s", "higher",
                         {"native": 413, "guest": 22, "jail": 0}),  # 0: failed in jail
}


def samples(median: float) -> tuple[float, ...]:
    return tuple(median * f for f in (0.99, 0.995, 1.0, 1.005, 1.01))


def metric(metric_id: str, env: str) -> Metric:
    name, unit, better, medians = FIGURES[metric_id]
    value = medians[env]
    if value == 0:
        return Metric(metric_id, name, unit, better, (), status="failed",  # type: ignore[arg-type]
                      tool="dd", error="no space left on device")
    # five rounds of one sample each: enough rounds for the rules to give a verdict
    return Metric(metric_id, name, unit, better, samples(value), tool="c-loop",  # type: ignore[arg-type]
                  rounds=(1, 2, 3, 4, 5))


def environment(label: str, system: Mapping[str, Any] | None = None) -> Environment:
    base: dict[str, Any] = {
        "cpu_model": "Intel Core i9-9900K", "cpu_cores": 8, "cpu_threads": 16,
        "memory_bytes": 4 * 1024**3 if label == "guest" else 64 * 1024**3,
        "os": "FreeBSD", "os_release": "15.0-RELEASE" if label == "guest" else "16.0-CURRENT",
        "arch": "amd64",
    }
    base.update(system or {})
    return Environment(label, f"the {label} environment", "2026-06-09T10:00:00Z", base,
                       {m: metric(m, label) for m in FIGURES}, f"{label}.json")


def report(envs: tuple[str, ...] = ("native", "guest"), *, analysis: str = "",
           system: Mapping[str, Mapping[str, Any]] | None = None, title: str = "SMP guest",
           slug: str = "smp", date: dt.date = dt.date(2026, 6, 9)) -> Report:
    """A report over ``envs`` (the first is the baseline)."""
    sections = (
        Section("Syscall getpid()", (SectionMetric("syscall.getpid", "getpid"),),
                text(analysis or "Every system call leaves the guest.")),
        Section("Memory: sysbench", (SectionMetric("memory.sysbench.write.t1", "write"),
                                     SectionMetric("memory.sysbench.read.t1", "read")),
                text("Two-level page walks cost on **every** miss.")),
        Section("Disk: write+fsync", (SectionMetric("disk.write_fsync", ""),),
                text("Layered I/O.")),
    )
    conclusions = (
        ConclusionItem("Syscall-heavy code", ("syscall.getpid",), "one exit per call"),
        ConclusionItem("Memory bandwidth", ("memory.sysbench.write.t1", "memory.sysbench.read.t1"),
                       "page walks"),
        ConclusionItem("Synchronous disk I/O", ("disk.write_fsync",), "virtio layering"),
    )
    return Report(
        slug=slug, title=title, date=date, author="A. Tester",
        intro=text("SMP is on; here is what it costs."),
        baseline=envs[0],
        environments=tuple(environment(e, (system or {}).get(e)) for e in envs),
        system=(SystemRow("CPU", text("Intel Core i9-9900K")),
                SystemRow("VM cfg", text("QEMU + bhyve, 8 vCPU"))),
        sections=sections, conclusions=conclusions, tier_headings={},
        summary=text("Compute is free; crossing the boundary is not."),
    )


VOID = {"meta", "link", "img", "br", "hr", "input", "source", "wbr"}


class Collector(HTMLParser):
    """Every start tag with its attributes, and the text inside chosen tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        for tag in set(self.stack):
            self.texts.setdefault(tag, []).append(data)

    def text_of(self, tag: str) -> str:
        return "".join(self.texts.get(tag, []))


SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def strip_charts(html: str) -> str:
    """The page without its inline chart SVGs, each checked first: well-formed, no
    script, no event handler, no reference outside itself."""
    for block in SVG_BLOCK.findall(html):
        root = ET.fromstring(block)
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1]
            assert tag not in ("script", "foreignObject", "a", "image"), tag
            for name, value in element.attrib.items():
                assert not name.rsplit("}", 1)[-1].lower().startswith("on"), name
                if name.endswith("href"):
                    assert value.startswith("#"), value
    return SVG_BLOCK.sub("<svg></svg>", html)


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector
