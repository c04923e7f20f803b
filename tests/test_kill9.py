"""kill -9 during a PDF build leaves the output whole, the archive consistent
and no process behind (three points here; the script takes a count)."""

from __future__ import annotations

import shutil
import sys

import pytest

from tests import kill9_pdf_build


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("sha256sum") is None,
                    reason="reads /proc and runs sha256sum (Linux)")
def test_kill9_at_three_points_of_a_pdf_build(capsys: pytest.CaptureFixture[str]) -> None:
    status = kill9_pdf_build.run(3)
    assert status == 0, capsys.readouterr().out
