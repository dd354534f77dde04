"""Orchestrator benchmark: signals decided per second on PostgreSQL with the simulated market,
and database queries per decided signal.

    .venv/bin/python bench/orchestrator.py [--signals 2000] [--processes 2] [--symbols 8] [--full-path]

`--full-path` turns the confluence gate off (ENABLE_CONFLUENCE_GATE=false) so every signal runs
the gates and both engines — the most expensive decision; by default the real configuration runs.

Uses its own database (ORCHESTRATOR_BENCH_DATABASE_URL, default …/optionsengine_bench_orchestrator),
created and migrated here. Steps:
  1. seeds a BULLISH bias state for each symbol and N pending signals (mixed symbols, directions and
     timeframes), all stamped at one frozen instant inside regular hours (OPTIONSENGINE_NOW);
  2. starts P worker processes that each call the orchestrator sweep (batches of 20) until nothing is
     left to claim — the same code path as the periodic worker;
  3. reports wall-clock signals/s (first claim to last commit), the outcome mix, and the queries of one
     decided signal counted in-process (must not depend on how many rows the tables hold).
The simulated market is computed in each process (memoized per instant), as a real worker would.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/optionsengine_bench_orchestrator"
NOW = "2026-03-13T15:00:00+00:00"  # Friday 11:00 New York
SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOGL")

WORKER = """
import json, time, django
django.setup()
from collections import Counter
from optionsengine.lib import clock
from optionsengine.pipeline.orchestrate import sweep
total, first, last = Counter(), None, None
while True:
    started = time.time()
    result = sweep(now=clock.now())
    if result.counts["claimed"] == 0:
        break
    first = first or started
    last = time.time()
    total.update(result.counts)
print(json.dumps({"counts": total, "first": first, "last": last}))
"""


def bench_env(url: str, full_path: bool = False) -> dict:
    extra = {"ENABLE_CONFLUENCE_GATE": "false"} if full_path else {}
    return {**os.environ, **extra, "DATABASE_URL": url, "SECRET_KEY": "bench", "ALLOWED_HOSTS": "localhost", "WEBHOOK_AUTH": "off",
            "OPTIONSENGINE_NOW": NOW, "DJANGO_SETTINGS_MODULE": "optionsengine.settings", "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT)}


def prepare(url: str, signals: int, symbols: int) -> None:
    from bench.webhook import ensure_database

    ensure_database(url)
    os.environ.update(bench_env(url))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:  # a clean slate, whatever an earlier run left
        cursor.execute("TRUNCATE signals, webhook_events, experiments, orders, trades, refactored_positions,"
                       " bias_state_current, bias_state_history, market_price_anchors, circuit_breaker_state CASCADE")
    from datetime import datetime

    from tests.pipeline.builders import make_signal, seed_bias

    at = datetime.fromisoformat(NOW)
    chosen = SYMBOLS[:symbols]
    from orders_app.models import RiskLimit

    # No position caps: every signal is judged by the gates and engines, none is deferred.
    RiskLimit.objects.update(max_open_positions=0, max_positions_per_symbol=0, max_daily_loss=0)
    for symbol in chosen:
        seed_bias(symbol, "BULLISH", at=at)
    for i in range(signals):
        make_signal(symbol=chosen[i % len(chosen)], direction=("long", "short")[i % 4 == 0],
                    timeframe=("5m", "15m", "1h", "4h")[i % 4], at=at)


def queries_per_signal() -> int:
    from datetime import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from optionsengine.pipeline.orchestrate import sweep
    from signals_app.models import Signal

    target = Signal.objects.filter(status="approved").first() or Signal.objects.first()
    Signal.objects.filter(pk=target.pk).update(status="pending", processed=False)
    with CaptureQueriesContext(connection) as ctx:
        sweep(now=datetime.fromisoformat(NOW), signal_ids=[target.pk])
    return len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--full-path", action="store_true", help="confluence gate off: every signal runs both engines")
    args = parser.parse_args()
    url = os.environ.get("ORCHESTRATOR_BENCH_DATABASE_URL", DEFAULT_DB)
    prepare(url, args.signals, args.symbols)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=bench_env(url, args.full_path), stdout=subprocess.PIPE,
                                text=True) for _ in range(args.processes)]
    results = [json.loads(w.communicate()[0].strip().splitlines()[-1]) for w in workers]
    counts = Counter()
    for r in results:
        counts.update(r["counts"])
    active = [r for r in results if r["first"]]
    seconds = max(r["last"] for r in active) - min(r["first"] for r in active)
    decided = counts["claimed"]
    outcomes = {k: v for k, v in counts.items() if k != "claimed"}
    print(f"signals decided: {decided} by {args.processes} processes in {seconds:.2f} s "
          f"→ {decided / seconds:.0f} signals/s")
    print(f"outcomes: {json.dumps(dict(sorted(outcomes.items())))}")
    print(f"queries for one decided signal (claim batch included): {queries_per_signal()}")


if __name__ == "__main__":
    time.sleep(0)
    main()
