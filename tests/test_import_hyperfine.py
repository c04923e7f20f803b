"""hyperfine exports as people have them (issue #22): failed commands kept under
-i, runs recorded as 0 s, long commands, older export layouts.  Expected
figures are read from the fixture by hand (quoted beside them) or worked out
from its "times" by the test itself, never taken from the importer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reportgen.cli import main
from reportgen.importers.common import slug
from tests.import_golden import FIXTURES, stage

ADVICE = "measure so short a command without a shell (hyperfine -N) or make it longer"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["import", "hyperfine", *(str(a) for a in args)],
                              catch_exceptions=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def imported(here: Path, relative: str, *options: str) -> tuple[list[dict[str, Any]], str]:
    """The metrics `reportgen import hyperfine` writes for a fixture, and what it printed."""
    stage(relative, here)
    done = run(relative, "--label", "x", "-o", "out.json", *options)
    assert done.exit_code == 0, done.output
    return json.loads((here / "out.json").read_text())["metrics"], done.output


def results(relative: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((FIXTURES / relative).read_text())["results"]
    return found
