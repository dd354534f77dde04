"""Enrichment (SPEC §6): the market data one signal is decided on, fetched outside any transaction.

Required: the underlying quote, the signal timeframe's candles and the option chain of the target
expiration — without them no decision is possible, so `MarketDataUnavailable` propagates and the
signal is retried (`market_data_unavailable`). Optional: multi-timeframe candles, GEX, flow and
IV rank — a provider without them yields None, which the engines treat as "unknown" (a rule that
needs it is skipped, an agent that needs it is omitted), never as a guessed value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from optionsengine import marketdata
from optionsengine.lib import market_calendar
from optionsengine.marketdata.types import TIMEFRAME_MINUTES
from signals_app.engines import contract_selection
from signals_app.engines.indicators import compute_indicators
from signals_app.engines.snapshot import MTF_TIMEFRAMES, MarketSnapshot

logger = logging.getLogger(__name__)
T = TypeVar("T")

SIGNAL_CANDLES = 200
# 5m needs a whole session (78 bars) for today's opening range and VWAP; the others feed EMA21
# trends, which need 21 bars — a few more, not more: the daily series decides how many trading
# days of minutes the simulated market builds for a symbol it has not seen yet.
MTF_COUNTS = {"5m": 80, "15m": 30, "1h": 30, "4h": 24, "1d": 24}


def candle_timeframe(timeframe_minutes: int) -> str:
    """The longest candle timeframe providers serve that fits in the signal's (2m → 1m, 1w → 1d)."""
    fitting = [(m, tf) for tf, m in TIMEFRAME_MINUTES.items() if m <= timeframe_minutes]
    return max(fitting)[1] if fitting else "1m"


def _optional(what: str, fetch: Callable[[], T]) -> T | None:
    try:
        return fetch()
    except marketdata.MarketDataUnavailable as exc:
        logger.info("enrichment: %s unavailable (%s); treated as unknown", what, exc)
        return None


def fetch_market(symbol: str, timeframe_minutes: int, setup_type: str, now: datetime) -> MarketSnapshot:
    """Everything the gates and engines read about the market. Raises MarketDataUnavailable."""
    with marketdata.pinned_reads():  # one consistent market (one anchor read) for the whole snapshot
        return _fetch(symbol, timeframe_minutes, setup_type, now)


def _fetch(symbol: str, timeframe_minutes: int, setup_type: str, now: datetime) -> MarketSnapshot:
    service = marketdata.get_service()
    quote = service.stock_quote(symbol)
    series = service.candles(symbol, candle_timeframe(timeframe_minutes), SIGNAL_CANDLES)
    expiration = contract_selection.target_expiration(market_calendar.market_date(now), setup_type)
    chain = service.option_chain(symbol, expiration)
    mtf = {}
    for tf in MTF_TIMEFRAMES:
        got = _optional(f"{tf} candles", lambda tf=tf: service.candles(symbol, tf, MTF_COUNTS[tf]))
        mtf[tf] = got.candles if got is not None else ()
    iv = _optional("IV rank", lambda: service.iv_rank(symbol))
    return MarketSnapshot(
        price=quote.price,
        price_stale=quote.stale,
        candles=series.candles,
        mtf_candles=mtf,
        gex=_optional("GEX", lambda: service.gex(symbol)),
        flow=_optional("flow", lambda: service.flow(symbol)),
        iv_rank=iv.iv_rank if iv is not None else None,
        chain=chain,
        indicators=compute_indicators(series.candles),
        bid=quote.bid,
        ask=quote.ask,
    )
