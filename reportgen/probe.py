"""`reportgen probe`: the standalone probe runner in probes/, run in-process.

The probes stay standard-library scripts so they can run in a bare guest
without reportgen; this front end only finds and calls them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PROBES = Path(__file__).resolve().parent.parent / "probes" / "run.py"


def run(argv: list[str]) -> int:
    spec = importlib.util.spec_from_file_location("reportgen_probes_run", PROBES)
    if spec is None or spec.loader is None:
        raise SystemExit(f"reportgen: cannot find the probe runner at {PROBES}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: int = module.main(argv)
    return result
