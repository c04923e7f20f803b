"""`reportgen probe --bundle`: one file that runs the probes with a bare python3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.core import resources
from reportgen.measure import bundle

ROOT = Path(__file__).resolve().parent.parent


def write_bundle(where: Path) -> Path:
    target = where / "probe.pyz"
    done = subprocess.run([sys.executable, "-m", "reportgen", "probe", "--bundle", str(target)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"wrote {target}: run it as python3 {target} --label NAME\n"
    return target


def test_bundle_holds_the_probes_and_the_c_source(tmp_path: Path) -> None:
    target = write_bundle(tmp_path)
    assert target.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert os.access(target, os.X_OK)
    names = zipfile.ZipFile(target).namelist()
    expected = sorted(p.relative_to(resources.PROBES).as_posix()
                      for p in resources.PROBES.rglob("*")
                      if p.suffix in (".py", ".c") and "__pycache__" not in p.parts)
    assert names == ["__main__.py", *expected]
    assert "c/probe_helper.c" in names


def test_bundle_bytes_do_not_depend_on_file_dates(tmp_path: Path) -> None:
    copy = tmp_path / "probes"
    for path in bundle.probe_files():
        dest = copy / path.relative_to(resources.PROBES)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
        os.utime(dest, (1_000_000_000, 1_000_000_000))
    assert bundle.build_bytes(copy) == bundle.build_bytes()


def test_bundle_runs_alone_and_leaves_nothing(tmp_path: Path) -> None:
    target = write_bundle(tmp_path)
    work, scratch = tmp_path / "elsewhere", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(scratch),
           "REPORTGEN_PROBES_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(["python3", str(target), "--label", "guest", "-o", "guest.json",
                           "--profile", "quick", "--only", "syscall.getpid"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads((work / "guest.json").read_text())
    assert data["environment"]["label"] == "guest"
    assert [m["status"] for m in data["metrics"]] == ["ok"]
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--env", "Native=local"], ("reportgen probe: --env 'Native=local': expected NAME=local or "
     "NAME=ssh:[user@]host[:port], NAME as a results label ([a-z][a-z0-9_-]*)")),
    (["--env", "guest=vm"], ("reportgen probe: --env 'guest=vm': where is 'local' or "
     "'ssh:[user@]host[:port]'")),
    (["--env", "a=local", "--env", "a=ssh:vm"], ("reportgen probe: each --env needs a name of "
     "its own")),
    (["--env", "a=local", "--label", "a"], ("reportgen probe: --env names each environment; it "
     "goes without --ssh and --label")),
    (["--ssh", "user@vm:22x", "--label", "g"], ("reportgen probe: --ssh 'user@vm:22x': expected "
     "[user@]host[:port]")),
    (["--ssh", "vm"], "reportgen probe: --label is required (e.g. --label guest)"),
    (["--ssh", "vm", "--label", "g", "-o", "missing/g.json"], ("reportgen probe: cannot write "
     "missing/g.json: no such directory")),
    (["--rounds", "x", "--env", "a=local"], ("reportgen probe: argument --rounds: invalid int "
     "value: 'x'")),
    # the rounds of an --env run come from the profile, checked before round 1
    (["--env", "a=local", "--profile", "fast"], ("reportgen probe: argument --profile: invalid "
     "choice: 'fast' (choose from 'quick', 'standard', 'thorough')")),
])
def test_bad_options_one_line_exit_2(args: list[str], message: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["probe", *args])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == message + "\n"
    assert list(tmp_path.iterdir()) == []
