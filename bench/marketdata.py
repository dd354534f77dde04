"""Simulated market benchmark: quote, chain, candle, GEX and flow latency.

    .venv/bin/python bench/marketdata.py [--repeat 200]

Runs the `simulated` provider in-process (no network, no database: anchors come from an
in-memory source) and once through the full MarketDataService (breaker and cache bookkeeping on
Django's local-memory cache), over instants spread across a trading week so the knot caches do
not flatter the numbers. Prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "optionsengine.settings_test")

import django  # noqa: E402

django.setup()

from django.core.cache.backends.locmem import LocMemCache  # noqa: E402

from optionsengine.lib import clock  # noqa: E402
from optionsengine.marketdata.anchors import StaticAnchors  # noqa: E402
from optionsengine.marketdata.service import MarketDataService  # noqa: E402
from optionsengine.marketdata.simulated.provider import SimulatedProvider  # noqa: E402

START = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # Monday 10:00 New York


def instants(count: int) -> list[datetime]:
    """`count` regular-hours instants spread over Monday–Friday of one week."""
    return [START + timedelta(days=(i % 5), minutes=(i * 37) % 360) for i in range(count)]


def measure(call: Callable[[datetime], object], moments: list[datetime]) -> list[float]:
    timings = []
    for moment in moments:
        started = time.perf_counter()
        call(moment)
        timings.append(time.perf_counter() - started)
    return timings


def row(name: str, timings: list[float], unit_count: int | None = None) -> str:
    ordered = sorted(timings)
    median = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    per_unit = f"{median * 1000 / unit_count:.1f} µs" if unit_count else ""
    return f"| {name} | {len(timings)} | {median:.3f} | {p95:.3f} | {per_unit} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200, help="samples per measurement (default 200)")
    args = parser.parse_args()
    provider = SimulatedProvider(seed=7, anchors=StaticAnchors())
    moments = instants(args.repeat)
    few = moments[: max(args.repeat // 10, 5)]
    service = MarketDataService([provider], cache=LocMemCache("bench", {}))

    def via_service(moment: datetime) -> object:
        with clock.override(moment):
            return service.stock_quote("SPY")

    week_expiry, month_expiry = date(2026, 3, 20), date(2026, 4, 17)
    spy_week = len(provider.option_chain("SPY", week_expiry, START).quotes)
    spy_month = len(provider.option_chain("SPY", month_expiry, START).quotes)
    tsla_week = len(provider.option_chain("TSLA", week_expiry, START).quotes)
    start_chain = provider.option_chain("SPY", week_expiry, START)
    atm = min(start_chain.quotes, key=lambda q: abs(q.contract.strike - start_chain.underlying_price)).contract
    lines = [
        "| measurement | samples | median ms | p95 ms | per contract |",
        "|---|---|---|---|---|",
        row("stock quote SPY (provider)", measure(lambda m: provider.stock_quote("SPY", m), moments)),
        row("stock quote SPY (service: breaker + cache)", measure(via_service, moments)),
        row(f"chain SPY weekly ({spy_week} contracts)", measure(lambda m: provider.option_chain("SPY", week_expiry, m), moments), spy_week),
        row(f"chain SPY monthly ({spy_month} contracts)", measure(lambda m: provider.option_chain("SPY", month_expiry, m), moments), spy_month),
        row(f"chain TSLA weekly ({tsla_week} contracts)", measure(lambda m: provider.option_chain("TSLA", week_expiry, m), moments), tsla_week),
        row("option quote SPY (one at-the-money contract)", measure(lambda m: provider.option_quote(atm, m), moments)),
        row("200 × 5m candles", measure(lambda m: provider.candles("SPY", "5m", 200, m), few)),
        row("200 × 1h candles", measure(lambda m: provider.candles("SPY", "1h", 200, m), few)),
        row("200 × 1d candles (78 000 one-minute bars)", measure(lambda m: provider.candles("SPY", "1d", 200, m), few)),
        row("GEX SPY (4 expiries)", measure(lambda m: provider.gex("SPY", m), few)),
        row("flow SPY (2 expiries)", measure(lambda m: provider.flow("SPY", m), few)),
    ]
    print(f"Python {platform.python_version()} on {platform.machine()} ({os.cpu_count()} CPUs), seed 7")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
