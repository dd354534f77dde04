"""Boundary numbers (JSON values, numeric strings) become finite Decimals, or are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from optionsengine.lib.money import MoneyParseError, to_decimal, to_decimal_or_none

PARSED = [
    (0.1, "0.1"),  # through str: no binary-float noise
    (5, "5"),
    ("601.25", "601.25"),
    (" 1,250.50 ", "1250.50"),
    (Decimal("2.5"), "2.5"),
]
REFUSED = [True, False, None, "abc", "", "NaN", "Infinity", float("inf"), float("nan"), [1], {"a": 1}]


@pytest.mark.parametrize(("value", "expected"), PARSED)
def test_numbers_and_numeric_strings_parse_to_exact_decimals(value, expected):
    assert to_decimal(value) == Decimal(expected)
    assert to_decimal_or_none(value) == Decimal(expected)


@pytest.mark.parametrize("value", REFUSED)
def test_booleans_missing_non_numeric_and_non_finite_values_are_refused(value):
    with pytest.raises(MoneyParseError):
        to_decimal(value)
    assert to_decimal_or_none(value) is None
