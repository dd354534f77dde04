"""Model-field factories shared by every app, so precision is decided once (see money.py)."""

from __future__ import annotations

from django.db import models

from optionsengine.lib import money


def PriceField(**kwargs) -> models.DecimalField:  # noqa: N802 - reads like a field class
    """Option/stock price in USD, 4 dp."""
    return models.DecimalField(max_digits=money.PRICE_MAX_DIGITS, decimal_places=money.PRICE_PLACES, **kwargs)


def CashField(**kwargs) -> models.DecimalField:  # noqa: N802
    """Cash / P&L in USD, 2 dp."""
    return models.DecimalField(max_digits=money.CASH_MAX_DIGITS, decimal_places=money.CASH_PLACES, **kwargs)


def PercentField(**kwargs) -> models.DecimalField:  # noqa: N802
    """A percentage such as 50.00 (= 50 %), 4 dp so small moves are not lost."""
    return models.DecimalField(max_digits=12, decimal_places=4, **kwargs)


def ScoreField(**kwargs) -> models.DecimalField:  # noqa: N802
    """Bias scores (-100…100) and similar bounded scores, 4 dp."""
    return models.DecimalField(max_digits=10, decimal_places=4, **kwargs)


def choices_check(field: str, choices: type[models.TextChoices], table: str, *, nullable: bool = False):
    """DB CHECK that the column holds exactly the values the code writes."""
    condition = models.Q(**{f"{field}__in": choices.values})
    if nullable:
        condition |= models.Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=f"{table}_{field}_valid")


class Engine(models.TextChoices):
    A = "A", "Engine A (rules)"
    B = "B", "Engine B (agents)"


class OptionType(models.TextChoices):
    CALL = "call"
    PUT = "put"


class Direction(models.TextChoices):
    LONG = "long"
    SHORT = "short"
