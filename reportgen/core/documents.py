"""Parse YAML and JSON input files, keeping where each value came from.

The rest of the loader speaks in key paths such as ``("sections", 2, "title")``;
a :class:`Document` turns a key path into ``file:line:col`` so that every
problem points into the user's file.  YAML is composed by PyYAML's safe loader
(no tags beyond the standard ones) and built into Python values here, so that
duplicate keys can be refused with their position.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reportgen.core.errors import CONTROL, InputError, Problem, display

KeyPath = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

# An alias can stand for a whole subtree: cap the work a small file can cause.
MAX_NODES = 200_000

_Composer: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass
class Document:
    """A parsed input file: its data and the position of every value and key."""

    path: str
    data: Any
    lines: list[str] = field(default_factory=list)
    values: dict[KeyPath, Position] = field(default_factory=dict)
    keys: dict[KeyPath, Position] = field(default_factory=dict)
    styles: dict[KeyPath, str] = field(default_factory=dict)
    sources: dict[KeyPath, str] = field(default_factory=dict)  # scalars as written

    def position(self, path: KeyPath, *, key: bool = False) -> Position:
        """Where ``path`` is; falls back to the nearest enclosing value."""
        if key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, (1, 1))

    def problem(self, path: KeyPath, message: str, *, key: bool = False,
                warning: bool = False, strict: bool = True) -> Problem:
        line, col = self.position(path, key=key)
        return Problem(self.path, line, col, message, warning, strict)

    def text_position(self, path: KeyPath, offset: int, value: str) -> Position:
        """Position of character ``offset`` of the string at ``path``.

        Exact for literal block scalars (``|``), the style analysis text is
        written in, and for single-line scalars; otherwise the value's start.
        """
        line, col = self.position(path)
        style = self.styles.get(path, "")
        row = value.count("\n", 0, offset)
        col_in_row = offset - (value.rfind("\n", 0, offset) + 1)
        if style == "|":
            first = line + 1  # content starts on the line after the indicator
            source = self.lines[first - 1] if first - 1 < len(self.lines) else ""
            indent = len(source) - len(source.lstrip(" "))
            return first + row, indent + col_in_row + 1
        if "\n" not in value and style in ("", "'", '"'):
            return line, col + col_in_row + (1 if style else 0)
        return line, col


def describe(path: KeyPath) -> str:
    """``("sections", 2, "title")`` -> ``sections[2].title``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Builder:
    """Builds Python values from a YAML node tree, recording positions."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.scalars = SafeConstructor()
        self.count = 0

    def build(self, node: Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        self.doc.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        self.doc.styles[path] = node.style or ""
        self.doc.sources[path] = node.value
        if node.tag == _TIMESTAMP:
            return node.value  # dates stay text; the loader parses and checks them
        try:
            return self.scalars.construct_object(node, deep=True)
        except ConstructorError as exc:
            self.problems.append(self.doc.problem(path, f"unsupported value: {exc.problem}"))
            return None

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(Problem(self.doc.path, *where, "merge keys (<<) are not supported"))
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(Problem(self.doc.path, *where, "keys must be plain strings"))
                continue
            key = str(self.scalars.construct_object(key_node))
            if key in result:
                first = self.doc.keys[path + (key,)]
                self.problems.append(Problem(
                    self.doc.path, *where,
                    f"duplicate key '{key}' (first defined at line {first[0]})"))
                continue
            self.doc.keys[path + (key,)] = where
            result[key] = self.build(value_node, path + (key,))
        return result


class _TooLarge(Exception):
    pass


_TOO_DEEP = "values are nested too deeply to read"


def parse_yaml(text: str, path: str, *, printable: bool = True) -> Document:
    """Parse one YAML document; raise :class:`InputError` with every problem
    (with ``printable``, also every control character in a string)."""
    doc = Document(path, None, text.splitlines())
    try:
        node = yaml.compose(text, Loader=_Composer)
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise InputError([Problem(path, line, col, _unprintable(chr(exc.character)))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        raise InputError([Problem(path, line, col, f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(path, 1, 1, f"YAML error: {exc}")]) from None
    if node is None:
        return doc
    builder = _Builder(doc)
    try:
        doc.data = builder.build(node, ())
    except _TooLarge:
        raise InputError([Problem(path, 1, 1, f"document expands to more than {MAX_NODES} "
                                              "values (too many aliases?)")]) from None
    except RecursionError:
        raise InputError([Problem(path, 1, 1, _TOO_DEEP)]) from None
    if builder.problems:
        raise InputError(builder.problems)
    if printable:
        _refuse_unprintable(doc)
    return doc


def _unprintable(char: str) -> str:
    what = "lone surrogate" if "\ud800" <= char <= "\udfff" else "control character"
    return (f"{what} U+{ord(char):04X} is not allowed: text must be printable "
            "(newlines and tabs are fine)")


def _refuse_unprintable(doc: Document) -> None:
    """Control characters and lone surrogates, in any key or string: they would
    reach terminals, text files, SVG and PDF metadata as they are."""
    problems = []
    for path, text in _strings(doc.data, ()):
        found = CONTROL.search(text)
        if found:
            line, col = doc.text_position(path, found.start(), text)
            problems.append(Problem(doc.path, line, col, _unprintable(found.group())))
    if problems:
        raise InputError(problems)


def _strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """Every key and string in ``value`` with its path (a loop, not recursion:
    nesting as deep as the parser allowed must not overflow the stack here)."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield where + (key,), str(key)
                stack.append((where + (key,), child))
        elif isinstance(item, list):
            stack.extend((where + (i,), child) for i, child in enumerate(item))


# NaN and Infinity as bare values (not inside a string), which json accepts.
_CONSTANT = re.compile(r'[:\[,]\s*(-?Infinity|NaN)\b')


def _line_col(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


class _OutOfRange(ValueError):
    def __init__(self, literal: str) -> None:
        self.literal = literal
        super().__init__(f"{literal} is out of range: a number must lie within "
                         f"+-{sys.float_info.max:.4g}")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _OutOfRange(literal)
    return value


def _bounded_int(literal: str) -> int | float:
    if len(literal.lstrip("-")) > 308:  # beyond any float: every number becomes one later
        raise _OutOfRange(literal[:20] + "...")
    return int(literal)


def parse_json(text: str, path: str) -> Document:
    """Parse JSON strictly (no NaN, no duplicate keys) with value positions.

    ``json`` does the parsing; the YAML composer, which reads JSON, only
    supplies positions, and a file it cannot read simply gets none.
    """
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                          parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(path, exc.lineno, exc.colno, f"JSON syntax error: {exc.msg}")]) from None
    except RecursionError:
        raise InputError([Problem(path, 1, 1, _TOO_DEEP)]) from None
    except _OutOfRange as exc:
        found = re.search(r"(?<![\w.+-])" + re.escape(exc.literal.removesuffix("...")), text)
        line, col = _line_col(text, found.start()) if found else (1, 1)
        raise InputError([Problem(path, line, col, f"JSON error: {exc}")]) from None
    except ValueError as exc:
        found = _CONSTANT.search(text)
        line, col = _line_col(text, found.start(1)) if found else (1, 1)
        raise InputError([Problem(path, line, col, f"JSON error: {exc}")]) from None
    try:
        doc = parse_yaml(text, path, printable=False)
    except InputError as exc:
        duplicates = [p for p in exc.problems if p.message.startswith("duplicate key")]
        if duplicates:
            raise InputError(duplicates) from None
        doc = Document(path, None, text.splitlines())
    doc.data = data
    _refuse_unprintable(doc)
    return doc



def read_document(path: Path, parse: Any) -> Document:
    """Read a UTF-8 file and ``parse`` it; a missing or unreadable file is a problem."""
    shown = display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(shown, 1, 1, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(shown, 1, 1, f"cannot read file: {exc}")]) from None
    doc: Document = parse(text, shown)
    return doc
