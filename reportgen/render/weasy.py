"""WeasyPrint, imported without starting some two hundred processes.

When WeasyPrint is imported it opens its C libraries (GObject, Pango,
HarfBuzz, fontconfig), trying several names for each.  cffi passes each name
without a dot to ``ctypes.util.find_library``, which on Linux runs ldconfig,
gcc and ld for every one: about 200 processes, most of a second of a build
that edits one report.  Every list also holds the library's file name
(``libpango-1.0.so.0``), which the dynamic linker finds by itself, so on
Linux that search is switched off while WeasyPrint loads.

Importing this module loads WeasyPrint (the build's fork server preloads it).
"""

from __future__ import annotations

import sys
from typing import Any


def load() -> Any:
    """The weasyprint module, imported once per process."""
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    import ctypes.util

    search = ctypes.util.find_library
    setattr(ctypes.util, "find_library", _not_searched)  # noqa: B010 - a module's function
    try:
        import weasyprint
    finally:
        setattr(ctypes.util, "find_library", search)  # noqa: B010
    return weasyprint


def _not_searched(name: str) -> None:
    return None


load()
