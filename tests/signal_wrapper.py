"""`reportgen ARGS` that stops at one step until it is signalled, for the tests only.

    python tests/signal_wrapper.py MODULE:NAME -- ARGS...

When the command calls MODULE.NAME (``os:replace``, the rename that puts a
written file in place; ``reportgen.site.output:publish``, the build's swap),
it prints ``waiting in MODULE:NAME`` on stderr and sleeps there instead, so
that a test can send a signal at that step without guessing at timing.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any, NoReturn


def main(argv: list[str]) -> None:
    split = argv.index("--")
    (where,) = argv[:split]
    module_name, name = where.split(":")
    module = importlib.import_module(module_name)

    def wait(*args: Any, **kwargs: Any) -> NoReturn:
        print(f"waiting in {where}", file=sys.stderr, flush=True)
        time.sleep(600)
        raise SystemExit(f"signal_wrapper.py: no signal came in {where}")

    setattr(module, name, wait)
    from reportgen.cli import main as reportgen

    reportgen(argv[split + 1:], prog_name="reportgen")


if __name__ == "__main__":
    main(sys.argv[1:])
