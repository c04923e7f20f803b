"""A small YAML writer: the pieces of report.yml that `reportgen new` writes.

This module owns how the scaffold puts text into YAML so that it reads back
unchanged and nothing can break out of its place: double-quoted scalars
(:func:`scalar`), plain ids and labels where YAML reads them back as the same
string (:func:`word`), untrusted text in comments (:func:`comment`), and
Markdown as literal block scalars wrapped at WIDTH columns without splitting
a ``{{ placeholder }}`` (:func:`block`).
"""

from __future__ import annotations

import re
import textwrap

import yaml

WIDTH = 78  # wrap the generated Markdown text at this many columns


def scalar(value: str) -> str:
    """``value`` as a double-quoted YAML scalar that reads back unchanged."""
    out = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=1 << 30)
    out = out.removesuffix("\n...\n").rstrip("\n")
    assert yaml.safe_load(out) == value and "\n" not in out
    return out


def word(value: str) -> str:
    """An id or label: plain when YAML reads it back as the same string, else quoted."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", value) and yaml.safe_load(value) == value:
        return value
    return scalar(value)


def comment(value: str) -> str:
    """Untrusted text for a YAML comment: one line, quoted, nothing can break out."""
    return scalar(value)


def block(text: str, indent: int) -> str:
    """Markdown of our own as the lines of a literal block scalar (``|``)."""
    pad = " " * indent
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        if lines:
            lines.append("")
        if paragraph.startswith("- "):  # a list: one wrapped item per line
            for item in paragraph.split("\n"):
                wrapped = _wrap(item, WIDTH - indent - 2)
                lines.extend(pad + ("" if i == 0 else "  ") + line
                             for i, line in enumerate(wrapped))
        else:
            lines.extend(pad + line for line in _wrap(paragraph, WIDTH - indent))
    return "\n".join(lines)


def _wrap(paragraph: str, width: int) -> list[str]:
    """Wrap without breaking inside a ``{{ placeholder }}``."""
    glued = re.sub(r"\{\{ ([^}]*) \}\}", lambda m: "{{\0" + m.group(1) + "\0}}", paragraph)
    return [line.replace("\0", " ") for line in textwrap.wrap(
        glued, width, break_long_words=False, break_on_hyphens=False)]
