"""Golden output (as Pelican does it): the example report and the four-env
fixture against checked-in files.

After an intended change, `make golden` rewrites tests/golden/ and the diff
shows exactly what moved. tests/test_golden_invariants.py checks the golden
files themselves against the results they were built from.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.golden import (
    FOUR_ENV_FILES,
    GOLDEN,
    GOLDEN_FILES,
    GOLDEN_FOUR_ENV,
    build_example,
    build_four_env,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_example(tmp_path_factory.mktemp("golden") / "site")


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_matches_golden(built: Path, name: str) -> None:
    assert (built / name).read_bytes() == (GOLDEN / name).read_bytes(), (
        f"{name} differs from tests/golden; run `make golden` if the change is intended")


@pytest.fixture(scope="module")
def built_four_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_four_env(tmp_path_factory.mktemp("golden-four-env") / "site")


@pytest.mark.parametrize("name", FOUR_ENV_FILES)
def test_four_env_matches_golden(built_four_env: Path, name: str) -> None:
    assert (built_four_env / name).read_bytes() == (GOLDEN_FOUR_ENV / name).read_bytes(), (
        f"four-env {name} differs from tests/golden; run `make golden` if the change is intended")


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    again = build_example(tmp_path / "again")
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (built / name).read_bytes() == (again / name).read_bytes(), name


# The structure of the hand-written post the text format follows: its rules,
# part headings, numbered titles with their badges, tier blocks and summary.
# The conclusions' figures say their direction in words (`8% longer`, `36% to
# 48% less throughput across 2 metrics`) where the post gave the sign alone.
SKELETON = """\
System:
CPU      : Intel Core i9-9900K (8C/16T, base 3.6 GHz)
Host OS  : FreeBSD 16.0-CURRENT (amd64)
Guest OS : FreeBSD 15.0-RELEASE (amd64)
VM cfg   : QEMU + bhyve accelerator, 8 vCPU, 4 GiB RAM, virtio-blk disk
Date     : 2026-06-09
Headline (computed from the measurements, against native):
==============================================================================
ANALYSIS AND NOTES
==============================================================================
1. CPU INTEGER (+8%)
2. SYSCALL getpid() (~4x)
3. FORK()+WAIT (~66x)
4. MEMORY: dd /dev/zero (same)
5. MEMORY: sysbench (-36% write, -48% read, -41%/-59% at 8 threads)
6. DISK: write+fsync (~19x)
7. DISK: cached read (guest faster)
==============================================================================
CONCLUSIONS
==============================================================================
Workloads that run at native speed:
- Pure integer compute: 8% longer, practically native
- Large sequential memory: same, level with the host
Workloads with a moderate cost:
- Syscall-heavy code: ~4x slower, a fixed +136 ns per VM exit
- Memory bandwidth (alloc): 36% to 48% less throughput across 2 metrics,
  two-level TLB misses
- Memory bandwidth (MT): 41% to 59% less throughput across 2 metrics, more
  vCPUs, more contention
Workloads with a severe cost (keep them off this VM when speed matters):
- fork() / process creation: ~66x slower, EPT invalidations and scheduling at
  two levels
- Synchronous disk I/O (fsync): ~19x slower, virtio layers and a VM exit per
  request
Summary:
==============================================================================
"""

def skeleton(text: str) -> str:
    """The structural lines of a post: header block, the headline's heading,
    rules, part headings, numbered titles, and the conclusions part (the
    summary by its first word)."""
    out: list[str] = []
    part = "intro"
    for line in text.splitlines():
        if line == "System:":
            part = "header"
        elif line.startswith("Headline ("):
            out.append(line)  # the computed headline: its heading, not its figures
            part = "headline"
        elif line in ("ANALYSIS AND NOTES", "CONCLUSIONS"):
            part = line
        elif line.startswith("Summary:"):
            out.append("Summary:")
            part = "summary"
            continue
        keep = (line.startswith("=") or part in ("header", "CONCLUSIONS") or line == part
                or (part == "ANALYSIS AND NOTES" and re.match(r"\d+\. .*\(.*\)$", line)))
        if keep and line.strip():
            out.append(line)
    return "\n".join(out) + "\n"


def test_text_follows_the_seed_skeleton(built: Path) -> None:
    assert skeleton((built / "report.txt").read_text()) == SKELETON


def test_no_line_over_78_characters_in_any_example(tmp_path: Path) -> None:
    site = build_example(tmp_path / "site", "txt").parent
    texts = sorted(site.glob("*/report.txt"))
    assert len(texts) >= 2
    for path in texts:
        long = [line for line in path.read_text().splitlines() if len(line) > 78]
        assert not long, (path.parent.name, long)


def test_markdown_aligns_numbers_right_and_names_every_column(built: Path) -> None:
    md = (built / "report.md").read_text()
    rules = [line for line in md.splitlines() if re.fullmatch(r"\|(:?-+:?\|)+", line)]
    assert rules and all(line.startswith("|---|") for line in rules)
    assert any("---:" in line for line in rules)
    headers = [md.splitlines()[i - 1] for i, line in enumerate(md.splitlines()) if line in rules]
    assert all("|  |" not in h and "| |" not in h for h in headers)


def test_built_pages_carry_no_script(built: Path) -> None:
    # The reload script is `reportgen serve`'s alone (tests/test_serve.py).
    pages = sorted(built.parent.rglob("*.html"))
    assert pages and not any(b"<script" in p.read_bytes().lower() for p in pages)
