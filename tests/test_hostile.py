"""The hostile-input corpus (tests/fixtures/hostile, run by tests/hostile.py):
per case, the exact stderr and exit status; a refused build leaves the previous
output byte-identical, a build that succeeds is inert; nothing outside the
project is opened and nothing connects.  Needs strace(1): skipped without it,
except on CI (CI=true), where its absence fails."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests import hostile


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[hostile.Corpus]:
    if shutil.which("strace") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("strace(1) is needed for the hostile-input corpus (.ci/run installs it)")
        pytest.skip("strace(1) is not installed: the corpus traces every build")
    yield hostile.Corpus(tmp_path_factory.mktemp("hostile"))


def test_the_corpus_is_large_enough() -> None:
    assert len(hostile.cases()) >= 60


@pytest.mark.parametrize("case", hostile.cases(), ids=lambda c: c.name)
def test_hostile_case(case: hostile.Case, corpus: hostile.Corpus) -> None:
    outcome = corpus.run(case)
    assert outcome.stderr == case.expected.read_text(encoding="utf-8")
    assert outcome.status == case.spec["status"]
    if outcome.status != 0:
        assert outcome.after == outcome.before, "the previous output changed"
    for name, texts in case.spec.get("contains", {}).items():
        data = (outcome.output / name).read_text(encoding="utf-8")
        assert [t for t in texts if t not in data] == [], name
    for name, texts in case.spec.get("lacks", {}).items():
        data = (outcome.output / name).read_text(encoding="utf-8")
        assert [t for t in texts if t in data] == [], name
    if outcome.status == 0 and (outcome.output / "r" / "report.md").exists():
        # report.md stays inert even where Markdown is rendered with HTML allowed
        tokens = MarkdownIt("commonmark").parse((outcome.output / "r" / "report.md").read_text())
        live = [t for t in tokens for t in [t, *(t.children or [])] if t.type.startswith("html")]
        assert live == []
    for sums in outcome.output.glob("**/SHA256SUMS"):  # every archive folder is whole
        for line in sums.read_text(encoding="utf-8").splitlines():
            digest, name = line.split("  ", 1)
            assert hashlib.sha256((sums.parent / name).read_bytes()).hexdigest() == digest, name
    assert "Traceback" not in outcome.stderr
    assert outcome.opened_outside == []
    assert outcome.connects == []
    assert outcome.staging_left == []


def test_a_link_out_of_the_project_would_be_seen(tmp_path: Path) -> None:
    """The trace check itself: a read through a link is caught where it leads."""
    log = tmp_path / "log"
    hexed = "".join(f"\\x{b:02x}" for b in b"/etc/passwd")
    inside = "".join(f"\\x{b:02x}" for b in b"/p/r/results/x.json")
    log.write_text(f'7 openat(AT_FDCWD<\\x2f>, "{inside}", O_RDONLY) = 3<{hexed}>\n'
                   '7 connect(3<socket:[1]>, {sa_family=AF_INET}, 16) = 0\n')
    assert hostile.opened(log, ("/p/",)) == (["/etc/passwd"], [log.read_text().splitlines()[1]])
