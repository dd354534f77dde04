"""Webhook ingestion benchmark: HTTP servers side by side, accepted alerts/s and latency on PostgreSQL.

    .venv/bin/python bench/webhook.py [--servers granian,granian-wsgi,gthread,sync] [--clients 16,64]
                                      [--workers 4] [--duration 10] [--runs 3]

Needs `wrk` (Debian: apt-get install wrk) and `pgbench` (PostgreSQL client). Uses its own database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/optionsengine_bench), created and
migrated here, so it never touches real data. Each round starts every server in turn (the order
rotates between rounds, so host drift hits all of them alike) and, per server:
  1. for each client count, wrk posts the 1.7 KB TradingView alert in bench/tradingview_alert.json
     with a new symbol per request, so every alert is accepted (the duplicate path is cheaper);
     every answer must be 2xx and every request an `accepted` audit row, or the run is invalid;
  2. slow clients: 8 connections send headers and part of a body, then stall; 100 sequential
     alerts are timed while they stay open;
then pgbench runs the same SQL the endpoint runs with each client count: the ceiling this PostgreSQL
allows. The script is captured from one real alert (bench/pgbench_intake.py): the one statement
batch of lock, duplicate check, signal, audit row, price anchor and fast-path task row. Prints Markdown tables for docs/PERFORMANCE.md
(medians over the rounds).

Servers: granian = bin/serve (RSGI edge, the default); granian-wsgi = granian's WSGI interface
(1 blocking thread per worker); gthread / sync = gunicorn with gunicorn.conf.py.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
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


SERVER_NAMES = ("granian", "granian-wsgi", "gthread", "sync")


def server_command(name: str, workers: int, port: int) -> tuple[list[str], dict]:
    venv = ROOT / ".venv" / "bin"
    if name == "granian":
        return [str(ROOT / "bin" / "serve")], {"WEB_WORKERS": str(workers), "PORT": str(port), "WEB_HOST": "127.0.0.1"}
    if name == "granian-wsgi":
        return [str(venv / "granian"), "--interface", "wsgi", "--no-ws", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--blocking-threads", "1", "--log-level", "warning",
                "optionsengine.wsgi:application"], {}
    if name in ("gthread", "sync"):
        return [str(venv / "gunicorn"), "optionsengine.wsgi", "-c", str(ROOT / "gunicorn.conf.py")], {
            "GUNICORN_WORKERS": str(workers), "GUNICORN_WORKER_CLASS": name, "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_BIND": f"127.0.0.1:{port}"}
    raise SystemExit(f"unknown server {name!r}; choose from {SERVER_NAMES}")


def start_server(name: str, workers: int, port: int, env: dict) -> subprocess.Popen:
    cmd, extra = server_command(name, workers, port)
    process = subprocess.Popen(cmd, cwd=ROOT, env={**env, **extra}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/webhook/test", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    stop_server(process)
    sys.exit(f"{name} did not start")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def slow_clients(port: int, stalled: int = 8, alerts: int = 100, timeout: float = 5.0) -> dict:
    """Latency of sequential alerts while `stalled` uploads hang open (bounded: gives up after 3 timeouts)."""
    held = []
    for _ in range(stalled):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 2000\r\n\r\n{\"ticker\": \"SP")
        held.append(sock)
    time.sleep(0.2)
    tag = secrets.token_hex(3).upper()
    latencies, failures = [], 0
    started = time.perf_counter()
    try:
        for index in range(alerts):
            body = PAYLOAD.replace('"NASDAQ:AAPL"', f'"SC{tag}N{index}"').encode()
            begun = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                conn.request("POST", "/webhook", body=body, headers={"Content-Type": "application/json"})
                ok = conn.getresponse().status == 201
                conn.close()
            except OSError:
                ok = False
            latencies.append(time.perf_counter() - begun)
            failures += not ok
            if failures >= 3:
                break
    finally:
        for sock in held:
            sock.close()
    return {"answered": len(latencies) - failures, "sent": len(latencies), "total_s": time.perf_counter() - started,
            "max_ms": max(latencies) * 1000, "gave_up": failures >= 3}


# Every table an accepted alert writes, emptied before each measurement so runs start alike.
TRUNCATE = "TRUNCATE webhook_events, signals, market_price_anchors, django_q_ormq CASCADE"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="granian,granian-wsgi,gthread,sync", help="comma list of " + ", ".join(SERVER_NAMES))
    parser.add_argument("--clients", default="16,64", help="comma list of concurrent client counts (wrk and pgbench)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="server worker processes (default: one per core)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--runs", type=int, default=3, help="rounds; medians are reported (a 2-core VM is noisy)")
    parser.add_argument("--no-slow", action="store_true", help="skip the slow-client scenario")
    args = parser.parse_args()
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    clients = [int(c) for c in args.clients.split(",")]
    for tool in ("wrk", "pgbench", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required (apt-get install wrk postgresql-client)")

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    ensure_database(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "bench", "DEBUG": "false", "CONN_MAX_AGE": "600",
           "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_AUTH": "off"}
    env.pop("REDIS_URL", None)
    env.pop("WEBHOOK_SECRET", None)
    python = str(ROOT / ".venv" / "bin" / "python")
    sh(python, str(ROOT / "manage.py"), "migrate", "--noinput", env=env)

    def load(seconds: int, connections: int) -> str:
        # A fresh run tag per wrk process: its per-thread counters restart, the symbols must not.
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(wrk_script(secrets.token_hex(2).upper()))
        return sh("wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua.name, f"http://127.0.0.1:{args.port}")

    results: dict = {(s, c): [] for s in servers for c in clients}
    slow: dict = {s: [] for s in servers}
    for round_index in range(args.runs):
        order = servers[round_index % len(servers):] + servers[: round_index % len(servers)]
        for name in order:
            process = start_server(name, args.workers, args.port, env)
            try:
                load(2, clients[0])  # warm up workers and their persistent connections
                for count in clients:
                    sh("psql", db_url, "-qc", TRUNCATE)
                    run = parse_wrk(load(args.duration, count))
                    accepted = int(sh("psql", db_url, "-tAc", "SELECT count(*) FROM webhook_events WHERE status = 'accepted'").strip())
                    if run["non2xx"] or accepted < run["requests"]:
                        sys.exit(f"benchmark invalid ({name}, {count} clients): {run['non2xx']} non-2xx, {accepted} accepted of {run['requests']}")
                    results[(name, count)].append(run)
                    print(f"round {round_index + 1} {name:12} {count:3} clients: {run['rps']:6.0f}/s p50 {run['p50']:6.1f} ms p99 {run['p99']:6.1f} ms", file=sys.stderr)
                if not args.no_slow:
                    slow[name].append(slow_clients(args.port))
                    print(f"round {round_index + 1} {name:12} slow clients: {slow[name][-1]}", file=sys.stderr)
            finally:
                stop_server(process)

    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(sh(python, str(ROOT / "bench" / "pgbench_intake.py"), env=env))
    ceiling = {}
    for count in clients:
        sh("psql", db_url, "-qc", TRUNCATE)
        pg_out = sh("pgbench", "-n", "-c", str(count), "-j", "2", "-T", str(args.duration), "-f", script.name, db_url)
        ceiling[count] = float(re.search(r"tps = ([\d.]+)", pg_out).group(1))
    sh("psql", db_url, "-qc", TRUNCATE)

    providers = os.environ.get("MARKET_DATA_PROVIDERS", "simulated")
    print(f"\n{args.workers} workers per server, {providers} market, {args.duration} s per run, {args.runs} alternating rounds (median)\n")
    print("| server | clients | accepted/s (median) | p50 ms | p99 ms | runs: accepted/s (p99 ms) | pgbench same SQL | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name in servers:
        for count in clients:
            runs = results[(name, count)]
            rps = median([r["rps"] for r in runs])
            all_runs = ", ".join(f"{r['rps']:.0f} ({r['p99']:.0f})" for r in runs)
            print(f"| {name} | {count} | {rps:.0f} | {median([r['p50'] for r in runs]):.1f} | {median([r['p99'] for r in runs]):.1f} "
                  f"| {all_runs} | {ceiling[count]:.0f} tx/s | {rps / ceiling[count]:.2f} |")
    if not args.no_slow:
        print("\n| server | 8 stalled uploads: alerts answered | total s | slowest ms (per round) |")
        print("|---|---|---|---|")
        for name in servers:
            rounds = slow[name]
            answered = ", ".join(f"{r['answered']}/{100}" + (" (gave up)" if r["gave_up"] else "") for r in rounds)
            totals = ", ".join(f"{r['total_s']:.2f}" for r in rounds)
            slowest = ", ".join(f"{r['max_ms']:.0f}" for r in rounds)
            print(f"| {name} | {answered} | {totals} | {slowest} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
