"""Author Markdown to HTML and to plain text, with one parser configuration.

Raw HTML is off (it is shown as text), tables and strikethrough are on, and
markdown-it's link validation drops ``javascript:``, ``vbscript:``, ``file:``
and ``data:`` URLs, so nothing the author writes can run in a reader's browser.
"""

from __future__ import annotations

import re
import textwrap
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # markdown-it is slow to import: only when Markdown is parsed
    from markdown_it import MarkdownIt
    from markdown_it.tree import SyntaxTreeNode

WIDTH = 76

# Characters that would change the meaning of literal text placed in Markdown
# (with strikethrough on, a single ~ counts too).
_SPECIAL = re.compile(r"([\\`*_~\[\]<>|#])")


def escape(text: str) -> str:
    """Keep ``text`` literal inside Markdown."""
    return _SPECIAL.sub(r"\\\1", text)


# `<` opening raw HTML (a tag, comment, declaration or processing instruction),
# but not an autolink such as <https://example.org> or <me@example.org>.
_RAW_HTML = re.compile(r"<(?=[A-Za-z/!?])(?![A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>)"
                       r"(?![^\s@<>]+@[^\s@<>]+>)")


def escape_html(source: str) -> str:
    """Author Markdown with raw HTML escaped (``\\<``), outside code: what the
    HTML pages show as text stays text wherever report.md is rendered."""
    code = {n for t in parser().parse(source) if t.type in ("fence", "code_block") and t.map
            for n in range(*t.map)}
    lines = source.split("\n")
    for n, line in enumerate(lines):
        if n not in code:
            pieces = re.split(r"(`+(?:.*?[^`])??`+)", line)
            lines[n] = "".join(p if i % 2 else _RAW_HTML.sub(r"\\<", p)
                               for i, p in enumerate(pieces))
    return "\n".join(lines)


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
        ["table", "strikethrough"])


def to_html(source: str) -> str:
    """Safe HTML for a block of author Markdown."""
    return str(parser().render(source))


def inline_html(source: str) -> str:
    """Safe HTML for one line of Markdown (no enclosing paragraph)."""
    return str(parser().renderInline(source))


def to_text(source: str, width: int = WIDTH, first_prefix: str = "") -> str:
    """Plain text: paragraphs wrapped to ``width``, lists with hanging indents.

    ``first_prefix`` starts the first paragraph (e.g. ``"Summary: "``).
    """
    from markdown_it.tree import SyntaxTreeNode

    root = SyntaxTreeNode(parser().parse(source))
    blocks = _blocks(root.children, width)
    if first_prefix:
        if blocks and not blocks[0].startswith((" ", "-")):
            blocks[0] = _wrap(first_prefix + blocks[0].replace("\n", " "), width)
        else:
            blocks.insert(0, first_prefix.rstrip())
    return "\n\n".join(blocks)


def _blocks(nodes: list[SyntaxTreeNode], width: int) -> list[str]:
    out: list[str] = []
    for node in nodes:
        text = _block(node, width)
        if text:
            out.append(text)
    return out


def _block(node: SyntaxTreeNode, width: int) -> str:
    kind = node.type
    if kind == "paragraph":
        return _wrap(_inline(node), width)
    if kind == "heading":
        return _inline(node)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width)
    if kind in ("fence", "code_block"):
        return textwrap.indent(node.content.rstrip("\n"), "    ")
    if kind == "blockquote":
        return textwrap.indent("\n\n".join(_blocks(node.children, width - 2)), "> ",
                               lambda line: True)
    if kind == "hr":
        return "-" * 20
    if kind == "table":
        return _table(node)
    return "\n\n".join(_blocks(node.children, width))


def _list(node: SyntaxTreeNode, width: int) -> str:
    start = int(str(node.attrs.get("start", 1)))
    items = []
    for i, item in enumerate(node.children):
        marker = f"{start + i}. " if node.type == "ordered_list" else "- "
        body = "\n".join(_blocks(item.children, width - len(marker)))
        pad = " " * len(marker)
        items.append(marker + body.replace("\n", "\n" + pad))
    return "\n".join(items)


def _table(node: SyntaxTreeNode) -> str:
    rows = [[_inline(cell) for cell in row.children]
            for part in node.children for row in part.children]
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _inline(node: SyntaxTreeNode) -> str:
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "image":
            parts.append(f"[image: {child.content or _inline(child)}]")
        elif kind == "link":
            text, href = _inline(child), str(child.attrs.get("href", ""))
            parts.append(text if href in (text, f"mailto:{text}") else f"{text} ({href})")
        else:
            parts.append(_inline(child))
    return "".join(parts)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
                     for line in text.split("\n"))
