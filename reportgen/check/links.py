"""Links and images in the author's prose: which ones a report may have.

This module owns the link rules of the text report.yml holds: links may be
web (http, https), mail or in-page, or relative paths; images may only be the
report's own charts (``charts/<name>.svg``); and ``javascript:``, ``file:``,
``data:`` and ``vbscript:`` links, which markdown-it drops before they can be
seen, are found in the raw text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

ALLOWED_LINKS = ("http://", "https://", "mailto:", "#")
# markdown-it drops these links before we see them: find them in the raw text.
_UNSAFE_URL = re.compile(r"\]\(\s*((?:javascript|vbscript|file|data):"
                         r"[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)", re.IGNORECASE)


def link_problems(text: str) -> Iterator[tuple[int, str]]:
    """Links must be web, mail or in-page; images only the report's own charts."""
    from reportgen.core import markdown  # markdown-it loads slowly; only reports need it

    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    for token in markdown.parser().parse(text):
        block = line_starts[token.map[0]] if token.map and token.map[0] < len(line_starts) else 0
        for child in token.children or ():
            if child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                if not href.startswith(ALLOWED_LINKS) and (":" in href or href.startswith("/")):
                    yield _find(text, href, block), (f"link to '{href}' is not allowed: links "
                                                     "may use http(s), mailto or a relative path")
            elif child.type == "image":
                src = str(child.attrs.get("src", ""))
                if not (src.startswith("charts/") and ".." not in src and src.endswith(".svg")):
                    yield _find(text, src, block), (f"image '{src}' is not allowed: the text "
                                                    "may only show the report's own charts "
                                                    "(charts/<name>.svg)")
    for found in _UNSAFE_URL.finditer(text):
        yield found.start(1), (f"'{found.group(1)}' is not allowed: links may use http(s), "
                               "mailto or a relative path")


def _find(text: str, needle: str, start: int) -> int:
    found = text.find(needle, start)
    return found if found >= 0 else start
