"""Where the shipped data lives: templates/ (with fonts/) and probes/.

In the repository both folders sit at the top level, beside the package; the
wheel maps them into the package (pyproject.toml, force-include), so an
installed reportgen finds them inside itself.  One lookup serves both.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # reportgen/, above core/


def _shipped(name: str) -> Path:
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


TEMPLATES = _shipped("templates")
PROBES = _shipped("probes")
CHART_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")  # under templates/fonts/


def site_assets() -> dict[str, bytes]:
    """Files every page and PDF of a site shares, by path in the output: the
    stylesheet, and the fonts the charts are set in with their licence."""
    fonts = TEMPLATES / "fonts"
    return {"style.css": (TEMPLATES / "style.css").read_bytes(),
            **{f"fonts/{name}": (fonts / name).read_bytes()
               for name in (*CHART_FONTS, "LICENSE-DejaVu.txt")}}
