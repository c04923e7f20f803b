"""The sdist and wheel as a user gets them: built, installed into a fresh venv, used
from a directory outside the repository, where no checkout can help.

pip installs the dependencies from its cache (or its configured index), which
is where most of the test's time goes.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from reportgen import __version__

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["templates/style.css", "templates/pdf.css", "templates/fonts/",
           "probes/run.py", "probes/c/probe_helper.c", "read/schemas/results.schema.json"]


def sh(*argv: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # python -m build makes the sdist, then the wheel from the sdist: both must be whole.
    sh(sys.executable, "-m", "build", "-o", out, ROOT, cwd=out)
    return out


def test_sdist_and_wheel_carry_templates_fonts_schemas_and_probes(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    with tarfile.open(sdist) as tar, zipfile.ZipFile(wheel) as whl:
        in_sdist, in_wheel = tar.getnames(), whl.namelist()
    for name in SHIPPED:
        top = f"reportgen-{__version__}/"
        sdist_name = top + (name if not name.startswith("read/") else "reportgen/" + name)
        assert any(n.startswith(sdist_name) for n in in_sdist), name
        assert any(n.startswith("reportgen/" + name) for n in in_wheel), name
    assert not [n for n in in_wheel if "__pycache__" in n]


def test_installed_wheel_works_outside_the_repository(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    sh(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path)
    reportgen = venv / "bin" / "reportgen"
    work = tmp_path / "work"
    work.mkdir()
    assert sh(reportgen, "--version", cwd=work) == f"reportgen, version {__version__}\n"
    for label in ("a", "b"):
        sh(reportgen, "probe", "--profile", "quick", "--only", "syscall.getpid",
           "--label", label, "-o", f"{label}.json", cwd=work)
    sh(reportgen, "new", "r", "--results", "a.json", "b.json", cwd=work)
    (work / "site.yml").write_text("title: Packaging test\nreports: [r]\n"
                                   "formats: [html, pdf, txt, md]\noutput: output\n")
    sh(reportgen, "check", cwd=work)
    sh(reportgen, "build", cwd=work)
    assert (work / "output" / "r" / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert "<html" in (work / "output" / "r" / "index.html").read_text()
    sh(reportgen, "probe", "--bundle", "probe.pyz", cwd=work)
    sh(sys.executable, "probe.pyz", "--label", "c", "--profile", "quick", "--only",
       "syscall.getpid", cwd=work)
    assert (work / "c.json").is_file()
