"""How numbers are written: one place, so every format shows the same text.

One style for every figure reportgen prints (docs/formats.md, "How numbers are
written"):

* three significant digits, trailing zeros kept, so a table column and the two
  ends of an interval carry the same precision (``1.33x to 1.50x``);
* a comma between thousands (``32,800 MB/s``), a point before decimals;
* the unit as the tool reported it, except that ``us`` is written ``µs``.
"""

from __future__ import annotations

import math

SIGNIFICANT = 3
UNIT_DISPLAY = {"us": "µs"}  # ASCII spellings of units, as a reader expects them


def number(value: float) -> str:
    """Three significant digits, trailing zeros kept: 46.0, 182, 5,730, 0.123."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = SIGNIFICANT - 1 - math.floor(math.log10(abs(value)))
    if decimals >= 0:
        return f"{value:,.{decimals}f}"
    return f"{int(round(value, decimals)):,d}"


def tick(value: float) -> str:
    """An axis tick: as short as it can be (``1``, ``0.5``, ``2,000``)."""
    text = number(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def unit(name: str) -> str:
    """A unit as it is shown: ``µs`` for ``us``, every other unit unchanged."""
    return UNIT_DISPLAY.get(name, name)


def quantity(value: float, unit_name: str) -> str:
    """``46.0 ns``, ``413 MB/s``."""
    return f"{number(value)} {unit(unit_name)}".strip()


def signed_quantity(value: float, unit_name: str) -> str:
    """A difference with its sign: ``+136 ns``."""
    sign = "+" if value >= 0 else "-"
    return f"{sign}{quantity(abs(value), unit_name)}"


def ratio(value: float) -> str:
    """A slowdown: ``3.96x``; ``n/a`` for the NaN of a comparison that has none."""
    return "n/a" if math.isnan(value) else f"{number(value)}x"


def percent(change: float) -> str:
    """A relative change: ``+8%``; one decimal under 1%."""
    pct = change * 100
    return f"{pct:+.1f}%" if abs(pct) < 1 else f"{round(pct):+d}%"


def interval(bounds: tuple[float, float] | None) -> str:
    """A slowdown interval: ``3.90x to 4.02x``; empty when there is none."""
    return "" if bounds is None else f"{ratio(bounds[0])} to {ratio(bounds[1])}"


def band(width: float) -> str:
    """A noise band, three significant digits so its edge reads true: ``±3.00%``, ``±8.51%``."""
    return f"\u00b1{number(width * 100)}%"


def p_value(p: float | None) -> str:
    """A test's p-value: ``0.008``, ``0.31``, ``< 0.001``; ``n/a`` without a test."""
    if p is None:
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def p_is(p: float | None) -> str:
    """A p-value in a sentence: ``p = 0.008``, ``p < 0.001``, ``p = n/a``."""
    text = p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def memory(num_bytes: int) -> str:
    """``4 GiB``, ``512 MiB``, ``1.50 GiB``: whole sizes without decimals."""
    size = float(num_bytes)
    for name in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            break
        size /= 1024
    else:
        name = "TiB"
    text = f"{size:,.0f}" if size == int(size) else number(size)
    return f"{text} {name}"
