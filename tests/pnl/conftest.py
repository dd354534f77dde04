from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bias_app.models import BiasTradePerformance
from positions_app.models import Position
from tests.positions_app.builders import make_position

CLOSE_0 = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)


def make_closed(pnl: str, *, minutes: int = 0, symbol: str = "SPY", engine: str = "A", r: str | None = None,
                is_test: bool = False) -> Position:
    closed_at = CLOSE_0 + timedelta(minutes=minutes)
    position = make_position(
        symbol=symbol, engine=engine, is_test=is_test, status=Position.Status.CLOSED, quantity=2,
        realized_pnl=Decimal(pnl), exit_price=Decimal("5.00"), exit_timestamp=closed_at,
        entry_timestamp=closed_at - timedelta(hours=1),
    )
    Position.objects.filter(pk=position.pk).update(quantity=0)  # fully closed (the entry order keeps 2)
    if r is not None:
        BiasTradePerformance.objects.create(
            position=position, symbol=symbol, direction="long", engine=engine, pnl_r=Decimal(r),
            realized_pnl=Decimal(pnl), closed_at=closed_at, created_at=closed_at,
        )
    return position


@pytest.fixture
def closed_positions(db):
    """Two engines, two symbols, one test-traffic position and one still open (neither on the page)."""
    rows = [
        make_closed("250.00", minutes=0, symbol="SPY", engine="A", r="1.2500"),
        make_closed("-100.00", minutes=1, symbol="QQQ", engine="B", r="-0.5000"),
        make_closed("50.00", minutes=2, symbol="SPY", engine="A"),
        make_closed("-75.00", minutes=3, symbol="SPY", engine="B", r="-0.3750"),
        make_closed("9999.00", minutes=4, symbol="IWM", engine="A", is_test=True),
    ]
    make_position(symbol="AAPL")  # open: not a closed trade
    return rows


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(username="ops", password="pw-ops-123", is_staff=True)
