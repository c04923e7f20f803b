"""Numbers in prose: ``{{ syscall.getpid.guest }}`` and friends.

The author's text is never evaluated as a template.  A placeholder is a dotted
name looked up in the measured data; anything else between ``{{`` and ``}}``
is an error.  The grammar (see docs/formats.md):

* ``{{ <metric> <env> }}``              the environment's median, with its unit
* ``{{ <metric> [<env>] <field> }}``    a comparison field; the environment may
  be left out when the report compares exactly one environment to the baseline
* ``{{ system <env> <field> }}``        a system fact from the results file
* ``{{ since <metric> [<env>] [<field>] }}`` the same fields for the report
  against the earlier report it follows (``follows:`` in report.yml)

with the parts joined by dots.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

FIELDS = ("value", "ratio", "delta", "change", "label", "tier", "interval")
SYSTEM_FIELDS = ("description", "cpu_model", "cpu_cores", "cpu_threads", "memory", "os",
                 "os_release", "kernel", "arch", "virtualization", "technology",
                 "collected_at", "hostname")

_OPEN = re.compile(r"\{\{")
_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


@dataclass(frozen=True)
class Ref:
    metric: str | None  # None for a system fact
    env: str
    field: str
    since: bool = False  # against the earlier report (``since.`` prefix), not the baseline


class PlaceholderError(ValueError):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class Scope:
    """What placeholders may name in one report."""

    metrics: Collection[str]
    envs: Sequence[str]
    baseline: str
    # What ``since.`` placeholders may name: the metrics and environments of
    # both the report and the one it follows (no baseline); None without follows.
    since: Scope | None = None

    @property
    def default_env(self) -> str | None:
        others = [e for e in self.envs if e != self.baseline]
        return others[0] if len(others) == 1 else None


def find(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, inner text) of every ``{{ ... }}``; unclosed ones raise."""
    for match in _OPEN.finditer(text):
        end = text.find("}}", match.end())
        if end < 0:
            raise PlaceholderError(match.start(), "'{{' is never closed by '}}'")
        yield match.start(), end + 2, text[match.end():end].strip()


def parse(expr: str, scope: Scope) -> Ref:
    """Resolve a placeholder's name against the report, or say what is wrong."""
    shown = f"'{{{{ {expr} }}}}'"
    if not _NAME.fullmatch(expr):
        raise PlaceholderError(0, f"malformed placeholder {shown}: expected dotted names such "
                                  "as {{ syscall.getpid.guest }}")
    parts = expr.split(".")
    if parts[0] == "since" and len(parts) > 1 and expr not in scope.metrics:
        return _parse_since(parts[1:], shown, scope)
    if parts[0] == "system":
        return _parse_system(parts[1:], shown, scope)
    for cut in range(len(parts), 0, -1):
        metric = ".".join(parts[:cut])
        if metric in scope.metrics:
            return _parse_metric(metric, parts[cut:], shown, scope)
    guess = _closest_prefix(parts, scope.metrics)
    raise PlaceholderError(0, f"unknown placeholder {shown}: no metric named '{guess}'"
                              f"{hint(guess, scope.metrics)}")


def _parse_since(rest: list[str], shown: str, scope: Scope) -> Ref:
    """``since.<metric>[.<env>][.<field>]``: a figure of the report against the
    one it follows, named like a figure against the baseline."""
    if scope.since is None:
        raise PlaceholderError(0, f"placeholder {shown} compares with an earlier report, but "
                                  "report.yml names none: add 'follows:'")
    if rest[0] == "system":
        raise PlaceholderError(0, f"placeholder {shown}: system facts have no 'since'; write "
                                  "{{ system.<env>.<field> }}")
    inner = ".".join(rest)
    try:
        ref = parse(inner, scope.since)
    except PlaceholderError as exc:  # name the placeholder as the author wrote it
        raise PlaceholderError(0, exc.message.replace(f"'{{{{ {inner} }}}}'", shown)) from None
    return dataclasses.replace(ref, since=True)


def _parse_metric(metric: str, rest: list[str], shown: str, scope: Scope) -> Ref:
    env: str | None = None
    if rest and rest[0] in scope.envs:
        env, rest = rest[0], rest[1:]
    if len(rest) > 1 or (rest and rest[0] not in FIELDS):
        word = rest[0]
        choices = list(scope.envs) + list(FIELDS)
        raise PlaceholderError(0, f"unknown placeholder {shown}: '{word}' is neither an "
                                  f"environment ({', '.join(scope.envs)}) nor a field "
                                  f"({', '.join(FIELDS)}){hint(word, choices)}")
    field = rest[0] if rest else "value"
    if env is None:
        if field == "value":
            raise PlaceholderError(0, f"placeholder {shown} needs an environment: "
                                      f"one of {', '.join(scope.envs)}")
        env = scope.default_env
        if env is None:
            raise PlaceholderError(0, f"placeholder {shown} must name the environment, "
                                      "since the report compares several")
    if field != "value" and env == scope.baseline:
        raise PlaceholderError(0, f"placeholder {shown}: the baseline '{env}' is not compared "
                                  "with itself")
    return Ref(metric, env, field)


def _parse_system(rest: list[str], shown: str, scope: Scope) -> Ref:
    if not rest or rest[0] not in scope.envs:
        got = rest[0] if rest else ""
        raise PlaceholderError(0, f"unknown placeholder {shown}: expected "
                                  f"{{{{ system.<env>.<field> }}}} with an environment among "
                                  f"{', '.join(scope.envs)}{hint(got, scope.envs)}")
    field = ".".join(rest[1:])
    if field not in SYSTEM_FIELDS and not (field.startswith("tools.") and field.count(".") == 1):
        raise PlaceholderError(0, f"unknown placeholder {shown}: no system field '{field}' "
                                  f"(fields: {', '.join(SYSTEM_FIELDS)}, tools.<name>)"
                                  f"{hint(field, SYSTEM_FIELDS)}")
    return Ref(None, rest[0], field)


def refs(text: str, scope: Scope) -> Iterator[tuple[int, str, Ref | PlaceholderError]]:
    """Every placeholder of ``text``: offset, name, and a Ref or the error it has."""
    try:
        for start, _end, expr in find(text):
            try:
                yield start, expr, parse(expr, scope)
            except PlaceholderError as exc:
                yield start, expr, exc
    except PlaceholderError as exc:
        yield exc.offset, "", exc


def substitute(text: str, scope: Scope, lookup: Callable[[Ref], str]) -> str:
    """``text`` with every placeholder replaced; the text must have been checked."""
    out, last = [], 0
    for start, end, expr in find(text):
        out.append(text[last:start])
        out.append(lookup(parse(expr, scope)))
        last = end
    out.append(text[last:])
    return "".join(out)


def hint(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _closest_prefix(parts: list[str], metrics: Collection[str]) -> str:
    """The leading part of the name that looks most like a metric id."""
    def likeness(cut: int) -> float:
        name = ".".join(parts[:cut])
        return max((difflib.SequenceMatcher(None, name, m).ratio() for m in metrics), default=0)

    best = max(range(len(parts), 0, -1), key=likeness)
    return ".".join(parts[:best])
