"""Rows and a scripted market for the order creator and paper executor tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from optionsengine.lib.option_contracts import OptionRight, occ_symbol, option_symbol
from optionsengine.marketdata import MarketDataUnavailable
from optionsengine.marketdata.types import OptionContract, OptionGreeks, OptionQuote, StockQuote
from orders_app.models import Order
from positions_app.models import Position
from signals_app.models import DecisionRecommendation, Experiment, Signal

# Fri 2026-03-13 10:30 New York: regular hours.
NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
EXPIRY = date(2026, 4, 10)  # a listed weekly, 28 days out
NIGHT = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)  # Friday 22:00 New York: market closed


def signal(*, symbol="SPY", direction="long", timeframe="1h", status=Signal.Status.APPROVED, is_test=False,
           created_at=NOW - timedelta(minutes=1), raw_payload=None, **extra) -> Signal:
    return Signal.objects.create(
        symbol=symbol, direction=direction, timeframe=timeframe, timestamp=created_at, status=status,
        raw_payload=raw_payload if raw_payload is not None else {"ticker": symbol, "indicator": "ORB"},
        signal_hash=uuid.uuid4().hex, is_test=is_test, processed=status != Signal.Status.PENDING,
        created_at=created_at, **extra,
    )


def approved_with_recommendation(*, symbol="SPY", direction="long", strike="602", expiration=EXPIRY, quantity=2,
                                 engine="A", **signal_fields) -> Signal:
    """What the orchestrator leaves behind: approved signal + experiment + executed recommendation."""
    row = signal(symbol=symbol, direction=direction, **signal_fields)
    experiment = Experiment.objects.create(
        signal=row, variant=engine, assignment_hash="0" * 64, split_percentage=Decimal("0"), created_at=row.created_at,
    )
    row.experiment_id = experiment.experiment_id
    row.save(update_fields=["experiment_id"])
    for eng, shadow in ((engine, False), ("B" if engine == "A" else "A", True)):
        DecisionRecommendation.objects.create(
            experiment=experiment, engine=eng, signal=row, symbol=symbol, direction=direction, timeframe=row.timeframe,
            strike=Decimal(strike) + (0 if not shadow else 5), expiration=expiration, quantity=quantity if not shadow else 9,
            entry_price=Decimal("5.00"), is_shadow=shadow, decision="enter", created_at=row.created_at,
        )
    return row


def entry_order(*, symbol="SPY", right=OptionRight.CALL, strike="602", expiration=EXPIRY, quantity=2, is_test=False,
                created_at=NOW - timedelta(seconds=5), signal_row=None, engine="A") -> Order:
    strike_d = Decimal(strike)
    signal_row = signal_row or signal(symbol=symbol, direction="long" if right is OptionRight.CALL else "short",
                                      is_test=is_test, created_at=created_at)
    return Order.objects.create(
        signal=signal_row, side=Order.Side.ENTRY, symbol=symbol,
        option_symbol=option_symbol(symbol, expiration, right, strike_d),
        occ_symbol=occ_symbol(symbol, expiration, right, strike_d), strike=strike_d, expiration=expiration,
        type=right.value, quantity=quantity, engine=engine, order_type="paper", status=Order.Status.PENDING_EXECUTION,
        is_test=is_test, created_at=created_at, updated_at=created_at,
    )


def exit_order(position: Position, *, quantity=None, reason="profit_target", codes=None, created_at=NOW) -> Order:
    return Order.objects.create(
        position=position, side=Order.Side.EXIT, symbol=position.symbol, option_symbol=position.option_symbol,
        occ_symbol=position.occ_symbol, strike=position.strike, expiration=position.expiration, type=position.type,
        quantity=quantity or position.quantity, engine=position.engine, experiment_id=position.experiment_id,
        order_type="paper", status=Order.Status.PENDING_EXECUTION, exit_reason=reason,
        exit_reason_codes=codes if codes is not None else [reason], is_test=position.is_test,
        created_at=created_at, updated_at=created_at,
    )


class StubMarket:
    """A market-data service answering from a table: option mids by OCC symbol (bid/ask around
    them unless given), one underlying price. `down` makes every call unavailable."""

    def __init__(self, *, spot="601.20", mid="5.00", bid="4.90", ask="5.10", iv="0.18", down=False, stale=False):
        self.spot = Decimal(spot)
        self.default = (Decimal(mid), None if bid is None else Decimal(bid), None if ask is None else Decimal(ask))
        self.by_occ: dict[str, tuple] = {}
        self.iv = Decimal(iv)
        self.down = down
        self.stale = stale
        self.option_calls = 0

    def set(self, occ: str, mid: str, bid: str | None = None, ask: str | None = None) -> None:
        self.by_occ[occ] = (Decimal(mid), None if bid is None else Decimal(bid), None if ask is None else Decimal(ask))

    def stock_quote(self, symbol: str) -> StockQuote:
        if self.down:
            raise MarketDataUnavailable(f"stock quote {symbol}", [("stub", "TransientError", "down")])
        return StockQuote(symbol, self.spot, self.spot - Decimal("0.01"), self.spot + Decimal("0.01"), self.spot, NOW, "stub")

    def option_chain(self, symbol, expiration):
        raise MarketDataUnavailable(f"option chain {symbol}", [("stub", "NoDataError", "no chains")])

    def option_quote(self, contract: OptionContract) -> OptionQuote:
        self.option_calls += 1
        if self.down:
            raise MarketDataUnavailable(f"option quote {contract.occ_symbol}", [("stub", "TransientError", "down")])
        mid, bid, ask = self.by_occ.get(contract.occ_symbol, self.default)
        return OptionQuote(
            contract=contract, bid=bid, ask=ask, mid=mid, last=mid, iv=self.iv,
            greeks=OptionGreeks(Decimal("0.52"), Decimal("0.031"), Decimal("-0.21"), Decimal("0.45")),
            open_interest=1000, volume=100, underlying_price=self.spot, as_of=NOW, provider="stub", stale=self.stale,
        )
