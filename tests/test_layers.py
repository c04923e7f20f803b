"""The package's structure: stages import one way, and no module imports
itself back through others (docs/architecture.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def test_no_module_imports_itself_back() -> None:
    # grimp counts every import, those under TYPE_CHECKING and inside functions too.
    graph = grimp.build_graph("reportgen", cache_dir=None)
    order = TopologicalSorter({m: graph.find_modules_directly_imported_by(m)
                               for m in graph.modules})
    try:
        order.prepare()
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def _lint(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--no-cache"], cwd=project, capture_output=True,
                          text=True, timeout=120, check=False, env={"PYTHONPATH": str(project),
                                                       "PATH": "/usr/bin:/bin"})


def test_the_layers_contract_holds_and_refuses_an_import_upward(tmp_path: Path) -> None:
    assert _lint(ROOT).returncode == 0, _lint(ROOT).stdout
    # The same tree with the model reaching up into the site stage must fail.
    shutil.copytree(ROOT / "reportgen", tmp_path / "reportgen",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    model = tmp_path / "reportgen" / "core" / "model.py"
    model.write_text(model.read_text() + "\nfrom reportgen.site import cache  # noqa\n")
    done = _lint(tmp_path)
    assert done.returncode == 1, done.stdout
    assert "reportgen.core.model -> reportgen.site.cache" in done.stdout
