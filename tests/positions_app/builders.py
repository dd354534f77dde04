"""Positions, quotes and bias states for the refresher, exit monitor and exit engine tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from optionsengine.lib.option_contracts import OptionRight, occ_symbol, option_symbol
from optionsengine.marketdata import MarketDataUnavailable
from optionsengine.marketdata.types import OptionChain, OptionContract, OptionGreeks, OptionQuote
from orders_app.models import Order
from positions_app.engines.exit_inputs import Greeks, PositionView, QuoteView
from positions_app.models import Position
from signals_app.models import Signal

# Fri 2026-03-13 10:30 New York: regular hours.
NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
EXPIRY = date(2026, 4, 17)  # the April monthly, five weeks out
NIGHT = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)  # Friday 22:00 New York: market closed
D = Decimal


def make_position(
    *, symbol="SPY", right="call", strike="600", expiration=EXPIRY, quantity=10, entry_price="5.00",
    entry_timestamp=NOW - timedelta(hours=1), setup_type="SWING", is_test=False, **fields,
) -> Position:
    """An open position with its signal and filled entry order."""
    strike_d = D(strike)
    option_right = OptionRight(right)
    signal = Signal.objects.create(
        symbol=symbol, direction="long" if right == "call" else "short", timeframe="1h", timestamp=entry_timestamp,
        status=Signal.Status.APPROVED, signal_hash=uuid.uuid4().hex, is_test=is_test, processed=True,
        created_at=entry_timestamp,
    )
    contract = {
        "symbol": symbol, "option_symbol": option_symbol(symbol, expiration, option_right, strike_d),
        "occ_symbol": occ_symbol(symbol, expiration, option_right, strike_d), "strike": strike_d,
        "expiration": expiration, "type": right,
    }
    order = Order.objects.create(
        signal=signal, side=Order.Side.ENTRY, quantity=quantity, engine="A", status=Order.Status.FILLED,
        is_test=is_test, created_at=entry_timestamp, updated_at=entry_timestamp, **contract,
    )
    values = {
        "entry_order": order, "quantity": quantity, "initial_quantity": quantity, "entry_price": D(entry_price),
        "entry_timestamp": entry_timestamp, "last_updated": entry_timestamp, "created_at": entry_timestamp,
        "setup_type": setup_type, "engine": "A", "is_test": is_test, **contract,
    }
    values.update(fields)
    return Position.objects.create(**values)


class StubMarket:
    """Option quotes from a table keyed by OCC symbol (default mid 5.00, bid/ask ±0.05)."""

    def __init__(self, *, mid="5.00", at=NOW):
        self.default = D(mid)
        self.mids: dict[str, Decimal | None] = {}
        self.at = at
        self.stale: set[str] = set()
        self.calls = 0
        self.chain_calls = 0
        self.chains_down = False

    def set(self, occ: str, mid: str | None, *, stale: bool = False) -> None:
        self.mids[occ] = None if mid is None else D(mid)
        if stale:
            self.stale.add(occ)

    def option_chain(self, symbol: str, expiration: date) -> OptionChain:
        """The contracts set with `set()` for this underlying and expiration (chains carry no stale quotes)."""
        self.chain_calls += 1
        if self.chains_down:
            raise MarketDataUnavailable(f"option chain {symbol}", [("stub", "NoDataError", "none")])
        quotes = []
        for occ, mid in self.mids.items():
            contract = OptionContract(*_parse(occ))
            if contract.underlying == symbol and contract.expiration == expiration and mid is not None and occ not in self.stale:
                quotes.append(self._quote(contract, mid))
        return OptionChain(symbol, expiration, D("600"), tuple(quotes), self.at, "stub")

    def option_quote(self, contract: OptionContract) -> OptionQuote:
        self.calls += 1
        mid = self.mids.get(contract.occ_symbol, self.default)
        if mid is None:
            raise MarketDataUnavailable(f"option quote {contract.occ_symbol}", [("stub", "NoDataError", "none")])
        return self._quote(contract, mid)

    def _quote(self, contract: OptionContract, mid: Decimal) -> OptionQuote:
        return OptionQuote(
            contract=contract, bid=mid - D("0.05"), ask=mid + D("0.05"), mid=mid, last=mid, iv=D("0.20"),
            greeks=OptionGreeks(D("0.50"), D("0.03"), D("-0.05"), D("0.40")), open_interest=1000, volume=100,
            underlying_price=D("600"), as_of=self.at, provider="stub", stale=contract.occ_symbol in self.stale,
        )


def _parse(occ: str):
    from optionsengine.lib.option_contracts import parse_occ_symbol

    return parse_occ_symbol(occ)


def view(**overrides) -> PositionView:
    """A pure PositionView: a 10-lot SWING call bought at 5.00 an hour before NOW."""
    values = {
        "position_id": "p1", "option_type": "call", "quantity": 10, "initial_quantity": 10, "entry_price": D("5.00"),
        "entry_timestamp": NOW - timedelta(hours=1), "expiration": EXPIRY, "setup_type": "SWING",
        "last_updated": NOW,
    }
    values.update(overrides)
    return PositionView(**values)


def quote(mark="5.00", **overrides) -> QuoteView:
    values = {"mark": D(mark), "as_of": NOW}
    values.update(overrides)
    return QuoteView(**values)


def greeks(delta="0.50", gamma="0.03", theta="-0.05", vega="0.40") -> Greeks:
    return Greeks(D(delta), D(gamma), D(theta), D(vega))


def bias_state(**overrides) -> dict:
    """A calm bullish state: no drift, no flips, no sweeps."""
    state = {
        "bias": "BULLISH", "macroClass": "MACRO_RANGE", "trendPhase": "MID", "atrState15m": "NORMAL",
        "acceleration": {"macroDriftScore": 0.0, "stateStrengthDelta": 0.0},
        "transitions": {"macroFlip": False, "regimeFlip": False},
        "liquidity": {"sweepHigh": False, "sweepLow": False, "reclaim": False},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(state.get(key), dict):
            state[key] = {**state[key], **value}
        else:
            state[key] = value
    return state
