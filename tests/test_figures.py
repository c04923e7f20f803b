"""How numbers are written (reportgen/core/figures.py): one style for every format."""

from __future__ import annotations

import pytest

from reportgen.core import figures


@pytest.mark.parametrize(("value", "expected"), [
    (46.0, "46.0"), (182.04, "182"), (5728.4, "5,730"), (32838.0, "32,800"), (3.9565, "3.96"),
    (65.84, "65.8"), (1.5, "1.50"), (0.12345, "0.123"), (0.39, "0.390"), (22.0, "22.0"),
    (999.7, "1,000"), (-136.2, "-136"), (0.0, "0"),
])
def test_three_significant_digits_with_separators(value: float, expected: str) -> None:
    assert figures.number(value) == expected


@pytest.mark.parametrize(("bounds", "expected"), [
    ((1.33, 1.5), "1.33x to 1.50x"),  # the same precision at both ends
    ((0.39, 0.858), "0.390x to 0.858x"),
    ((3.93, 3.98), "3.93x to 3.98x"),
    (None, ""),
])
def test_interval_ends_share_their_precision(bounds: tuple[float, float] | None,
                                             expected: str) -> None:
    assert figures.interval(bounds) == expected


@pytest.mark.parametrize(("unit", "shown"), [
    ("us", "µs"), ("ns", "ns"), ("MB/s", "MB/s"), ("MiB/s", "MiB/s"), ("index", "index"),
])
def test_units_as_reported_except_microseconds(unit: str, shown: str) -> None:
    assert figures.unit(unit) == shown
    assert figures.quantity(87.0, unit) == f"87.0 {shown}"


@pytest.mark.parametrize(("value", "expected"), [(1.0, "1"), (0.5, "0.5"), (2000.0, "2,000"),
                                                 (1.2, "1.2")])
def test_axis_ticks_are_short(value: float, expected: str) -> None:
    assert figures.tick(value) == expected


def test_other_helpers() -> None:
    assert figures.signed_quantity(-136.2, "ns") == "-136 ns"
    assert figures.signed_quantity(136.2, "us") == "+136 µs"
    assert figures.percent(0.004) == "+0.4%"
    assert figures.percent(-0.36) == "-36%"
    assert figures.ratio(3.9565) == "3.96x"
    assert figures.memory(4 * 2**30) == "4 GiB"
    assert figures.memory(3 * 2**29) == "1.50 GiB"
    assert figures.memory(512 * 2**20) == "512 MiB"
    assert figures.memory(3 * 2**40) == "3 TiB"
