"""Exit monitor benchmark: one tick over N open positions, with the queries it issues.

    .venv/bin/python bench/exits.py [--positions 1000] [--repeat 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/optionsengine_bench .venv/bin/python bench/exits.py

Creates a throw-away test database (SQLite file by default; `test_<name>` on PostgreSQL when
DATABASE_URL is set), opens N positions on listed contracts of the simulated market (five
symbols, two expirations, strikes around the money, fresh bias states), then times
`optionsengine.pipeline.exits.sweep`:
  - cold: every option chain / quote fetched through the provider chain (empty caches);
  - warm: the same instant again (chains served from the provider memo / 60 s chain cache, as when the
    refresher ran just before);
  - exits: every position hits its stop loss, so the tick writes N exit orders and N position updates.
Hold ticks evaluate every layer (forced, intelligence, tiers, rules) for every position.
Prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "optionsengine.settings_test")

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)  # one INFO line per published event would dominate the output

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from bias_app.engines.staleness import now_ms  # noqa: E402
from bias_app.models import BiasStateCurrent  # noqa: E402
from optionsengine import marketdata  # noqa: E402
from optionsengine.lib import clock  # noqa: E402
from optionsengine.lib.option_contracts import OptionRight  # noqa: E402
from optionsengine.pipeline import exits  # noqa: E402
from orders_app.models import Order  # noqa: E402
from positions_app.models import Position  # noqa: E402
from signals_app.models import Signal  # noqa: E402

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # Wednesday 11:00 New York
SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT")
EXPIRATIONS = (datetime(2026, 3, 20).date(), datetime(2026, 4, 17).date())


def contracts(count: int) -> list:
    """`count` listed contracts (calls and puts) from the simulated chains, nearest the money first."""
    service = marketdata.get_service()
    found = []
    for symbol in SYMBOLS:
        for expiration in EXPIRATIONS:
            chain = service.option_chain(symbol, expiration)
            spot = chain.underlying_price
            quotes = sorted(chain.quotes, key=lambda q: abs(q.contract.strike - spot))
            found.extend(quotes)
    per_bucket = -(-count // len(found)) if found else 1
    return (found * per_bucket)[:count]


def open_positions(count: int) -> list[Position]:
    quotes = contracts(count)
    signals, orders, positions = [], [], []
    entry = NOW - timedelta(hours=1)
    for quote in quotes:
        c = quote.contract
        signal = Signal(symbol=c.underlying, direction="long" if c.right is OptionRight.CALL else "short", timeframe="1h",
                        timestamp=entry, status="approved", signal_hash=uuid.uuid4().hex, processed=True, created_at=entry)
        order = Order(signal=signal, side="entry", symbol=c.underlying, option_symbol=c.option_symbol, occ_symbol=c.occ_symbol,
                      strike=c.strike, expiration=c.expiration, type=c.right.value, quantity=4, engine="A",
                      status="filled", created_at=entry, updated_at=entry)
        positions.append(Position(
            entry_order=order, symbol=c.underlying, option_symbol=c.option_symbol, occ_symbol=c.occ_symbol,
            strike=c.strike, expiration=c.expiration, type=c.right.value, quantity=4, initial_quantity=4,
            entry_price=quote.mid, underlying_entry_price=quote.underlying_price, setup_type="SWING", engine="A",
            greeks_at_entry={"delta": str(quote.greeks.delta), "gamma": str(quote.greeks.gamma),
                             "theta": str(quote.greeks.theta), "vega": str(quote.greeks.vega)} if quote.greeks else None,
            iv_at_entry=quote.iv, entry_acceleration_state_strength_delta=Decimal("3"),
            entry_timestamp=entry, last_updated=entry, created_at=entry,
        ))
        signals.append(signal)
        orders.append(order)
    Signal.objects.bulk_create(signals, batch_size=500)
    Order.objects.bulk_create(orders, batch_size=500)
    Position.objects.bulk_create(positions, batch_size=500)
    for symbol in SYMBOLS:
        state = {
            "symbol": symbol, "updatedAtMs": now_ms(NOW) - 60_000, "bias": "NEUTRAL", "macroClass": "MACRO_RANGE",
            "trendPhase": "MID", "atrState15m": "NORMAL", "acceleration": {"macroDriftScore": 0.05, "stateStrengthDelta": 1},
            "transitions": {"macroFlip": False, "regimeFlip": False},
            "liquidity": {"sweepHigh": False, "sweepLow": False, "reclaim": False},
        }
        BiasStateCurrent.objects.create(symbol=symbol, updated_at_ms=state["updatedAtMs"], state_json=state,
                                        event_id_raw=f"bench-{symbol}", source="bench", created_at=NOW, updated_at=NOW)
    return positions


_quote_time = [0.0]
_fetch_quotes = exits.fetch_quotes


def _timed_fetch_quotes(keys):
    started = time.perf_counter()
    try:
        return _fetch_quotes(keys)
    finally:
        _quote_time[0] += time.perf_counter() - started


exits.fetch_quotes = _timed_fetch_quotes


def tick() -> tuple[float, float, int, int, dict]:
    """(seconds, of which quote fetching, queries, of which simulated-market anchor reads, counts)."""
    _quote_time[0] = 0.0
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = exits.sweep(now=NOW)
        elapsed = time.perf_counter() - started
    anchors = sum(1 for q in ctx.captured_queries if "market_price_anchors" in q["sql"])
    return elapsed, _quote_time[0], len(ctx.captured_queries), anchors, dict(result.counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    # The test settings' local-memory cache keeps 300 entries; a production Redis keeps every quote.
    cache._max_entries = max(getattr(cache, "_max_entries", 0), 10 * args.positions)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with clock.override(NOW):
            cache.clear()
            open_positions(args.positions)
            distinct = Position.objects.values("occ_symbol").distinct().count()
            rows = []
            cache.clear()
            rows.append(("hold, cold caches", [tick()]))
            rows.append(("hold, warm chain cache", [tick() for _ in range(args.repeat)]))
            Position.objects.update(entry_price=Decimal("500"))  # every mark is now a −99 % stop loss
            rows.append(("every position exits", [tick()]))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"\nExit monitor tick, {args.positions} open positions ({distinct} distinct contracts), "
          f"{connection.vendor}, Python {platform.python_version()}, {platform.machine()}\n")
    print("| tick | runs | median s | quotes s | stage s (DB + engines) | queries | of which anchor reads "
          "| stage queries / position | outcome |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, runs in rows:
        median = statistics.median(r[0] for r in runs)
        quotes = statistics.median(r[1] for r in runs)
        _, _, queries, anchors, counts = runs[-1]
        outcome = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        print(f"| {name} | {len(runs)} | {median:.3f} | {quotes:.3f} | {median - quotes:.3f} | {queries} | {anchors} "
              f"| {(queries - anchors) / args.positions:.3f} | {outcome} |")


if __name__ == "__main__":
    main()
