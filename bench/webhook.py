"""Webhook ingestion benchmark: accepted alerts/s and latency under concurrent load on PostgreSQL.

    .venv/bin/python bench/webhook.py [--workers 4] [--connections 16] [--duration 20]

Needs `wrk` (Debian: apt-get install wrk) and `pgbench` (PostgreSQL client). Uses its own database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/optionsengine_bench), created and
migrated here, so it never touches real data. Steps:
  1. gunicorn (gthread workers keeping client connections alive, as behind a reverse proxy;
     persistent DB connections) serves the real /webhook;
  2. wrk posts the 1.7 KB TradingView alert in bench/tradingview_alert.json, each request with a
     new symbol so every alert is accepted (the duplicate path is cheaper);
  3. pgbench runs the same SQL the endpoint runs (lock, duplicate check, two inserts) with the
     same client count: the ceiling the database allows on this machine;
  4. prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = (ROOT / "bench" / "tradingview_alert.json").read_text()
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/optionsengine_bench"


def sh(*cmd: str, env: dict | None = None, capture: bool = True) -> str:
    result = subprocess.run(cmd, env=env, check=True, text=True, capture_output=capture)
    return result.stdout if capture else ""


def ensure_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    exists = sh("psql", admin, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
    if not exists:
        sh("psql", admin, "-c", f'CREATE DATABASE "{name}"')


def wrk_script(run: str) -> str:
    body = PAYLOAD.replace('"NASDAQ:AAPL"', '"__SYM__"')
    return f"""
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local counter = 0
local template = [==[{body}]==]
function request()
  counter = counter + 1
  local body = string.gsub(template, "__SYM__", "B{run}" .. tid .. "N" .. counter)
  return wrk.format("POST", "/webhook", {{["Content-Type"] = "application/json"}}, body)
end
"""


PGBENCH_SQL = """\\set n random(1, 2000000000)
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('signal-dedup:P' || :n || ':long:5m:False', 0));
SELECT signal_id FROM signals WHERE symbol = 'P' || :n AND direction = 'long' AND timeframe = '5m' AND is_test = false AND created_at > now() - interval '60 seconds' ORDER BY created_at DESC LIMIT 1;
INSERT INTO signals (signal_id, symbol, direction, timeframe, "timestamp", status, raw_payload, signal_hash, is_test, processed, processing_lock, processing_attempts, wait_attempts, created_at) VALUES (gen_random_uuid(), 'P' || :n, 'long', '5m', now(), 'pending', '{payload}'::jsonb, md5(:n::text) || md5(:n::text), false, false, false, 0, 0, now());
INSERT INTO webhook_events (event_id, request_id, kind, status, symbol, direction, timeframe, processing_time_ms, is_test, raw_payload, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), 'signal', 'accepted', 'P' || :n, 'long', '5m', 1, false, '{payload}'::jsonb, now());
COMMIT;
"""


def parse_wrk(output: str) -> dict:
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
        "p50": latency("50"),
        "p99": latency("99"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", help="gthread (keep-alive, the default) or sync")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients (wrk and pgbench)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--runs", type=int, default=3, help="measurements; the median run is reported (a 2-core VM is noisy)")
    args = parser.parse_args()
    for tool in ("wrk", "pgbench", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required (apt-get install wrk postgresql-client)")

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    ensure_database(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "bench", "DEBUG": "false", "CONN_MAX_AGE": "600",
           "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1", "GUNICORN_WORKERS": str(args.workers), "GUNICORN_WORKER_CLASS": args.worker_class, "GUNICORN_ACCESS_LOG": "",
           "GUNICORN_BIND": f"127.0.0.1:{args.port}"}
    env.pop("REDIS_URL", None)
    env.pop("WEBHOOK_SECRET", None)
    python = str(ROOT / ".venv" / "bin" / "python")
    sh(python, str(ROOT / "manage.py"), "migrate", "--noinput", env=env)
    sh("psql", db_url, "-qc", "TRUNCATE webhook_events, signals CASCADE")

    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "optionsengine.wsgi", "-c", str(ROOT / "gunicorn.conf.py")],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        def load(seconds: int) -> str:
            # A fresh run tag per wrk process: its per-thread counters restart, the symbols must not.
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
                lua.write(wrk_script(secrets.token_hex(2).upper()))
            return sh("wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--latency", "-s", lua.name,
                      f"http://127.0.0.1:{args.port}")

        load(3)  # warm up workers and their persistent connections
        runs = []
        for _ in range(args.runs):
            sh("psql", db_url, "-qc", "TRUNCATE webhook_events, signals CASCADE")
            run = parse_wrk(load(args.duration))
            accepted = int(sh("psql", db_url, "-tAc", "SELECT count(*) FROM webhook_events WHERE status = 'accepted'").strip())
            if run["non2xx"] or accepted < run["requests"]:
                sys.exit(f"benchmark invalid: {run['non2xx']} non-2xx answers, {accepted} accepted of {run['requests']}")
            runs.append({**run, "accepted": accepted})
    finally:
        server.terminate()
        server.wait()
    runs.sort(key=lambda r: r["rps"])
    web = runs[len(runs) // 2]

    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SQL.format(payload=PAYLOAD.replace("\n", " ").replace("'", "''")))
    pg_out = sh("pgbench", "-n", "-c", str(args.connections), "-j", "2", "-T", str(args.duration), "-f", script.name, db_url)
    pg_tps = float(re.search(r"tps = ([\d.]+)", pg_out).group(1))
    pg_p = re.search(r"latency average = ([\d.]+) ms", pg_out)

    print("| measure | value |\n|---|---|")
    providers = os.environ.get("MARKET_DATA_PROVIDERS", "simulated")
    print(f"| accepted webhooks/s (gunicorn {args.workers} {args.worker_class} workers, {args.connections} clients, {providers}; median of {len(runs)}) | {web['rps']:.0f} |")
    print(f"| latency p50 / p99 | {web['p50']:.1f} ms / {web['p99']:.1f} ms |")
    all_runs = ", ".join(f"{r['rps']:.0f} ({r['p99']:.0f})" for r in runs)
    print(f"| all runs, accepted/s (p99 ms) | {all_runs} |")
    print(f"| median run: requests / non-2xx / accepted rows | {web['requests']} / {web['non2xx']} / {web['accepted']} |")
    print(f"| pgbench, same SQL, {args.connections} clients | {pg_tps:.0f} tx/s (avg {pg_p.group(1) if pg_p else '?'} ms) |")
    print(f"| webhook ÷ PostgreSQL ceiling | {web['rps'] / pg_tps:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
