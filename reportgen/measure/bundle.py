"""`reportgen probe --bundle`: the probes as one file, for machines without reportgen.

A zipapp holding probes/ (run.py, its modules and the C helper's source) and a
small __main__ that unpacks them into a private temporary directory, runs
run.py there and removes the directory again: the probes start workers and
compile the C helper from real files, which a zip cannot give them.  Entries
carry a fixed date and mode, so the same probes give the same bytes.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

from reportgen.core import atomic, resources

SHEBANG = b"#!/usr/bin/env python3\n"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold

# Python 3.8 syntax and standard library only: this runs on the measured machine.
MAIN = '''\
"""reportgen probes in one file: python3 probe.pyz --label NAME -o NAME.json [options]"""
import os
import shutil
import sys
import tempfile
import zipfile

if sys.version_info < (3, 8):
    sys.stderr.write("probe.pyz: error: needs Python 3.8 or newer, this is %d.%d\\n"
                     % sys.version_info[:2])
    sys.exit(2)


def main():
    here = tempfile.mkdtemp(prefix="reportgen-bundle-")
    try:
        with zipfile.ZipFile(os.path.dirname(os.path.abspath(__file__))) as archive:
            archive.extractall(here, [n for n in archive.namelist() if n != "__main__.py"])
        sys.path.insert(0, here)
        import run
        return run.main(sys.argv[1:])
    finally:
        shutil.rmtree(here, ignore_errors=True)


sys.exit(main())
'''


def probe_files(root: Path = resources.PROBES) -> list[Path]:
    """The files the probes need: Python modules and the C source, nothing cached."""
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.suffix in (".py", ".c") and "__pycache__" not in p.parts)


def build_bytes(root: Path = resources.PROBES) -> bytes:
    """The zipapp's bytes: shebang, then a zip with fixed dates and modes."""
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entries = [("__main__.py", MAIN.encode())]
        entries += [(p.relative_to(root).as_posix(), p.read_bytes()) for p in probe_files(root)]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def write(target: Path) -> None:
    """Write the bundle to ``target``, executable (``python3 target ...`` works too)."""
    atomic.write_bytes(target, build_bytes(), mode=0o755)
