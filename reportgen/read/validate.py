"""Check a parsed document against its JSON Schema, in the user's words.

jsonschema finds the problems; this module turns each into one
``file:line:col: message`` line that names the key path and, for unknown keys,
suggests the closest allowed one.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from reportgen.core.documents import Document, KeyPath, describe
from reportgen.core.errors import Problem
from reportgen.core.placeholders import hint

if TYPE_CHECKING:
    from jsonschema import ValidationError

_TYPE_NAMES = {"string": "a string", "number": "a number", "integer": "an integer",
               "array": "a list", "object": "a mapping", "boolean": "true or false",
               "null": "nothing"}


@cache
def schema(name: str) -> dict[str, Any]:
    """A schema shipped in reportgen/read/schemas/, e.g. ``results``."""
    text = resources.files("reportgen.read").joinpath(f"schemas/{name}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def problems(doc: Document, name: str) -> list[Problem]:
    """Every way ``doc`` departs from schema ``name``."""
    from jsonschema import Draft202012Validator  # slow to import: only when checking

    validator = Draft202012Validator(schema(name))
    found: list[Problem] = []
    for error in validator.iter_errors(doc.data):
        found.extend(_explain(doc, error))
    return found


def _explain(doc: Document, error: ValidationError) -> list[Problem]:
    path: KeyPath = tuple(error.absolute_path)
    where = describe(path) or "the document"
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    if kind == "additionalProperties":
        subschema: Any = error.schema
        allowed = list(subschema.get("properties", {}))
        inside = f" in {describe(path)}" if path else ""
        return [doc.problem(path + (key,), f"unknown key '{key}'{inside}{hint(key, allowed)}",
                            key=True)
                for key in instance if key not in allowed]
    if kind == "required":
        return [doc.problem(path, f"{where}: missing required key '{key}'")
                for key in value if key not in instance]
    if kind == "anyOf":
        return _explain_any_of(doc, error, where)
    subschema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "pattern" and "expected" in subschema:  # our own annotation, for people
        return [doc.problem(path, f"{where}: expected {subschema['expected']}, got {instance!r}")]
    return [doc.problem(path, f"{where}: {_message(str(kind), value, instance)}")]


def _explain_any_of(doc: Document, error: ValidationError, where: str) -> list[Problem]:
    """For "a string or a mapping", explain the branch of the instance's own type."""
    branches: Any = error.validator_value
    for index, branch in enumerate(branches):
        if _is_type(error.instance, branch.get("type")):
            inner = [e for e in error.context or () if e.schema_path[0] == index]
            return [p for e in inner for p in _explain(doc, e)]
    kinds = " or ".join(_TYPE_NAMES[b["type"]] for b in branches)
    return [doc.problem(tuple(error.absolute_path),
                        f"{where}: expected {kinds}, got {_kind(error.instance)}")]


def _message(kind: str, value: Any, instance: Any) -> str:
    if kind == "type":
        names = value if isinstance(value, list) else [value]
        return f"expected {' or '.join(_TYPE_NAMES[n] for n in names)}, got {_kind(instance)}"
    if kind in ("enum", "const"):
        options = value if kind == "enum" else [value]
        return f"expected {' or '.join(repr(o) for o in options)}, got {instance!r}"
    if kind in ("minItems", "minLength"):
        return "must not be empty"
    if kind == "maxLength":
        return f"must be at most {value} characters, got {len(instance)}"
    if kind == "uniqueItems":
        return "lists the same entry twice"
    if kind == "pattern":
        return f"{instance!r} is not allowed here (it must match {value})"
    bounds = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    if kind in bounds:
        return f"must be {bounds[kind]} {value}, got {instance!r}"
    return f"invalid value ({kind})"


def _is_type(instance: Any, name: str | None) -> bool:
    checks = {"string": str, "object": dict, "array": list}
    return name in checks and isinstance(instance, checks[name])


def _kind(instance: Any) -> str:
    if isinstance(instance, bool):
        return "true or false"
    if instance is None:
        return "nothing"
    if isinstance(instance, (int, float)):
        return f"the number {instance!r}"
    if isinstance(instance, str):
        return f"the string {instance!r}"
    if isinstance(instance, list):
        return "a list"
    return "a mapping" if isinstance(instance, dict) else type(instance).__name__
