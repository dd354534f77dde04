"""Paper executor benchmark: fills per second on PostgreSQL with the simulated market.

    .venv/bin/python bench/fills.py [--orders 1000] [--runs 3] [--workers 1]

Uses its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/optionsengine_bench_fills), created and migrated here; the
pipeline tables are emptied before each run. Each run inserts `--orders` pending entry orders on
distinct listed contracts of ten simulated underlyings (so quotes are really priced, not reused),
then times `execute.sweep` until none is pending (entry fills: trade + position + performance
row), then inserts one exit order per position and times the exits (trade with realized P&L,
position closed, performance completed). `--workers N` runs N executor sweeps in parallel threads
(each with its own connection) to show that concurrent executors add throughput without double
fills. Queries per order are counted in a separate small run (query capture slows everything).
The clock is frozen at a regular-hours moment. The daily trade cap is off (the seeded default);
`--daily-cap` switches it on: every entry fill then counts the day's entry fills under a
PostgreSQL advisory lock (two more queries, and entry fills serialize across executors).
Prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/optionsengine_bench_fills"
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # Tuesday 11:00 New York
SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "AMD")


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(db_url: str) -> None:
    os.environ.update({"DATABASE_URL": db_url, "SECRET_KEY": "bench", "DEBUG": "false", "LOG_LEVEL": "WARNING", "WEBHOOK_AUTH": "off",
                       "CONN_MAX_AGE": "600", "MARKET_DATA_PROVIDERS": "simulated", "ALLOWED_HOSTS": "127.0.0.1"})
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "optionsengine.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def contracts(count: int) -> list[tuple]:
    """`count` distinct listed (symbol, expiration, right, strike) near the money."""
    from optionsengine import marketdata
    from optionsengine.lib import market_calendar
    from optionsengine.lib.option_contracts import OptionRight
    from signals_app.engines.contract_selection import target_expiration

    service = marketdata.get_service()
    expiration = target_expiration(market_calendar.market_date(NOW), "SWING")
    pool = []
    for symbol in SYMBOLS:
        chain = service.option_chain(symbol, expiration)
        spot = chain.underlying_price or service.stock_quote(symbol).price
        for right in (OptionRight.CALL, OptionRight.PUT):
            strikes = sorted(chain.strikes(right), key=lambda k: abs(k - spot))[:60]
            pool += [(symbol, expiration, right, k) for k in strikes]
    if len(pool) < count:
        sys.exit(f"only {len(pool)} distinct contracts available; use --orders <= {len(pool)}")
    return pool[:count]


def reset_tables(daily_cap: int = 0) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bias_trade_performance, trades, refactored_positions, orders, signals CASCADE")
        cursor.execute("UPDATE risk_limits SET max_daily_trades = %s", [daily_cap])


def insert_entries(pool: list[tuple]) -> None:
    from optionsengine.lib.option_contracts import occ_symbol, option_symbol
    from orders_app.models import Order
    from signals_app.models import Signal

    signals = [
        Signal(symbol=s, direction="long" if r.value == "call" else "short", timeframe="1h", timestamp=NOW,
               status="approved", signal_hash="bench", processed=True, created_at=NOW)
        for s, _, r, _ in pool
    ]
    Signal.objects.bulk_create(signals)
    Order.objects.bulk_create([
        Order(signal=sig, side="entry", symbol=s, option_symbol=option_symbol(s, e, r, k), occ_symbol=occ_symbol(s, e, r, k),
              strike=k, expiration=e, type=r.value, quantity=2, engine="A", order_type="paper",
              status="pending_execution", created_at=NOW, updated_at=NOW)
        for sig, (s, e, r, k) in zip(signals, pool, strict=True)
    ])


def insert_exits() -> None:
    from orders_app.models import Order
    from positions_app.models import Position

    Order.objects.bulk_create([
        Order(position=p, side="exit", symbol=p.symbol, option_symbol=p.option_symbol, occ_symbol=p.occ_symbol,
              strike=p.strike, expiration=p.expiration, type=p.type, quantity=p.quantity, engine=p.engine,
              order_type="paper", status="pending_execution", exit_reason="bench", exit_reason_codes=["bench"],
              created_at=NOW, updated_at=NOW)
        for p in Position.objects.all()
    ])


def drain(workers: int) -> tuple[float, int]:
    """Run executor sweeps (in `workers` threads) until nothing is pending; (seconds, fills)."""
    from django.db import connections

    from optionsengine.pipeline import execute
    from orders_app.models import Order

    filled = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            while Order.objects.filter(status="pending_execution").exists():
                result = execute.sweep(now=NOW)
                if result.errors:
                    raise RuntimeError(result.errors[:3])
                with lock:
                    filled.append(sum(v for k, v in result.counts.items() if k.startswith("filled")))
        finally:
            connections.close_all()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sum(filled)


def queries_per_order(pool: list[tuple]) -> tuple[float, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from optionsengine.pipeline import execute

    measured = []
    for make in (lambda: insert_entries(pool), insert_exits):
        make()
        with CaptureQueriesContext(connection) as captured:
            execute.sweep(now=NOW)
        measured.append(len(captured.captured_queries) / len(pool))
    return measured[0], measured[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000, help="entry orders per run (then as many exits)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--workers", type=int, default=1, help="concurrent executor threads")
    parser.add_argument("--daily-cap", action="store_true", help="check a (never reached) daily entry cap in every fill")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    ensure_database(db_url)
    setup_django(db_url)
    from django.db import connection

    from optionsengine.lib import clock
    from orders_app.models import Order, Trade

    with clock.override(NOW):
        pool = contracts(args.orders)
        entry_rates, exit_rates = [], []
        cap = 10 * args.orders if args.daily_cap else 0
        for _ in range(args.runs):
            reset_tables(cap)
            insert_entries(pool)
            seconds, fills = drain(args.workers)
            assert fills == args.orders == Trade.objects.count(), (fills, args.orders)
            entry_rates.append(fills / seconds)
            insert_exits()
            seconds, fills = drain(args.workers)
            assert fills == args.orders and not Order.objects.filter(status="pending_execution").exists()
            exit_rates.append(fills / seconds)
        reset_tables(cap)
        entry_q, exit_q = queries_per_order(pool[:50])
        reset_tables()

    version = connection.cursor().connection.info.server_version
    print(f"\nPaper executor, PostgreSQL {version // 10000}, simulated market, {args.orders} orders × {args.runs} runs, "
          f"{args.workers} executor thread(s), daily cap {'on' if cap else 'off'}, Python {sys.version.split()[0]}\n")
    print("| fill | fills/s (median) | runs | queries per order |")
    print("|---|---|---|---|")
    print(f"| entry (trade, position, performance) | **{statistics.median(entry_rates):.0f}** | "
          f"{', '.join(f'{r:.0f}' for r in entry_rates)} | {entry_q:.2f} |")
    print(f"| exit, full close (trade, P&L, position, performance) | **{statistics.median(exit_rates):.0f}** | "
          f"{', '.join(f'{r:.0f}' for r in exit_rates)} | {exit_q:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
