"""How numbers are written: one place, so every format shows the same text."""

from __future__ import annotations

import math


def number(value: float) -> str:
    """Three significant digits, never hiding integer digits: 46, 182, 5728, 0.123."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def quantity(value: float, unit: str) -> str:
    """``46 ns``, ``413 MB/s``."""
    return f"{number(value)} {unit}".strip()


def signed_quantity(value: float, unit: str) -> str:
    """A difference with its sign: ``+136 ns``."""
    sign = "+" if value >= 0 else "-"
    return f"{sign}{quantity(abs(value), unit)}"


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
    """A noise band, three significant digits so its edge reads true: ``±3%``, ``±8.51%``."""
    return f"\u00b1{number(width * 100)}%"


def p_value(p: float | None) -> str:
    """A test's p-value: ``0.008``, ``0.31``, ``< 0.001``; ``n/a`` without a test."""
    if p is None:
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def memory(num_bytes: int) -> str:
    """``4 GiB``, ``512 MiB``."""
    size = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return quantity(size, unit)
        size /= 1024
    return quantity(size, "TiB")
