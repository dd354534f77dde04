"""Webhook → filled paper trade latency with `make run`'s processes (SPEC §12, §15).

    .venv/bin/python bench/latency.py [--modes embedded,postgres] [--alerts 200] [--gap 0.1] [--broker orm|redis]

For each mode it starts what `bin/run` starts — `manage.py migrate`, `manage.py sync_schedules`, one
`manage.py qcluster` and the web server `bin/serve` (granian, WEB_WORKERS default 2) — on a database of its own:
  - `embedded`: the embedded default, its own SQLite file (SQLITE_PATH=var/bench-latency.sqlite3,
    recreated each run), ORM broker, local-memory cache, one queue worker;
  - `postgres`: PostgreSQL + Redis (BENCH_LATENCY_DATABASE_URL, default …/optionsengine_bench_latency,
    created, migrated and truncated here; BENCH_REDIS_URL, default redis://127.0.0.1:6379/12) with the
    broker of `--broker`: `redis` (default) is the README's scaled set-up, `orm` keeps the queue in
    PostgreSQL; Q_WORKERS default (4).
Webhook authentication is on (WEBHOOK_SECRET, sent as `?token=`), as in any real deployment.
The clock is frozen for every process (OPTIONSENGINE_NOW=2026-03-13T15:00:00Z, Friday 11:00 New York:
regular hours, outside the opening/closing/lunch windows) and the market is the simulated one.

Method. Each alert is the 1.7 KB TradingView alert of bench/tradingview_alert.json with a new symbol
(`LT000`, `LT001`, …; timeframes cycling 1/5/15/30/60/240 min) and a top-level `confidence: 80`, so none is a
duplicate. Before the alerts, a fresh BULLISH bias state for every symbol is posted to the real
`/api/webhooks/mtf-bias` (the `seed_bias` payload). Alerts are sent one at a time: POST, then the
database is polled every `--poll-ms` (5 ms) until the alert's fate is known — a `trades` row for its
entry order (filled), or the signal `rejected` (decided), or deferred/failed — then `--gap` seconds
pass before the next alert. Times are wall-clock from just before the POST to the poll that saw the
row, so they include up to one poll interval. The simulated book is flattened after each fill (the
bench marks the new position closed at its entry price, outside the timed window), so every alert
meets the same empty portfolio: otherwise the portfolio greek gates reject everything after a few
fills. Per-stage times come from django-q2's task rows (enqueued → finished per stage task).
Three warm-up alerts are sent first and not counted.

Prints a Markdown table per mode for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bias_app.engines.seed import seed_payload  # noqa: E402  (pure: no Django)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
SECRET = "bench-latency-secret"  # sent as ?token=, as a TradingView alert URL can carry it
NOW = "2026-03-13T15:00:00+00:00"  # Friday 11:00 New York
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/optionsengine_bench_latency"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
SQLITE_FILE = ROOT / "var" / "bench-latency.sqlite3"
TIMEFRAMES = ("1", "5", "15", "30", "60", "240")
ALERT = json.loads((ROOT / "bench" / "tradingview_alert.json").read_text())
PG_TABLES = ("signals, webhook_events, orders, trades, refactored_positions, bias_state_current, bias_state_history,"
             " bias_trade_performance, market_price_anchors, django_q_ormq, django_q_task")


# --- database access from the driver (no Django here: one process drives both modes) ----------------


class Db:
    """Autocommit polling connection to the mode's database; rows keyed by signal id."""

    def __init__(self, mode: str, url: str | None):
        self.sqlite = mode == "embedded"
        if self.sqlite:
            self.conn = sqlite3.connect(str(SQLITE_FILE), isolation_level=None, timeout=20)
            self.p = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
            self.p = "%s"

    def _id(self, value: str) -> str:
        return value.replace("-", "") if self.sqlite else value  # Django stores UUIDs as 32 hex on SQLite

    def q(self, sql: str, params: tuple = ()) -> list[tuple]:
        cur = self.conn.execute(sql.replace("%s", self.p), params)
        return cur.fetchall() if cur.description else []

    def fate(self, signal_id: str) -> tuple:
        rows = self.q(
            "SELECT s.status, s.rejection_reason, s.next_retry_at, o.order_id, o.status, t.trade_id"
            " FROM signals s LEFT JOIN orders o ON o.signal_id = s.signal_id AND o.side = 'entry'"
            " LEFT JOIN trades t ON t.order_id = o.order_id WHERE s.signal_id = %s", (self._id(signal_id),))
        return rows[0] if rows else (None,) * 6

    def tasks(self, names: list[str]) -> dict[str, tuple[float, float]]:
        marks = ", ".join([self.p] * len(names))
        rows = self.conn.execute(f"SELECT name, started, stopped FROM django_q_task WHERE name IN ({marks})", names).fetchall()
        return {name: (_epoch(started), _epoch(stopped)) for name, started, stopped in rows}

    def flatten(self) -> None:
        """Close the bench's open positions at their entry price (outside the timed window)."""
        self.q("UPDATE refactored_positions SET status = 'closed', quantity = 0, exit_price = entry_price,"
               " exit_timestamp = entry_timestamp, exit_reason = 'bench_flatten', unrealized_pnl = 0"
               " WHERE status = 'open'")

    def close(self) -> None:
        self.conn.close()


def _epoch(value) -> float:
    if isinstance(value, str):  # SQLite: "2026-12-04 21:05:01.123456" in UTC
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# --- processes ------------------------------------------------------------------------------------


def mode_env(mode: str, args) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "QUEUE_BROKER", "WEBHOOK_SECRET", "HMAC_SECRET", "SQLITE_PATH",
                        "Q_WORKERS", "PIPELINE_FAST_PATH", "PROMETHEUS_MULTIPROC_DIR")}
    env.update({"OPTIONSENGINE_NOW": NOW, "LOG_LEVEL": "WARNING", "DEBUG": "false", "PORT": str(args.port),
                "WEB_HOST": "127.0.0.1", "WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(ROOT),
                "REALTIME_CHANNEL": "optionsengine:bench-latency", "MARKET_DATA_PROVIDERS": "simulated"})
    if mode == "embedded":
        env["SQLITE_PATH"] = str(SQLITE_FILE)
    else:
        env.update({"DATABASE_URL": os.environ.get("BENCH_LATENCY_DATABASE_URL", DEFAULT_DB),
                    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS), "QUEUE_BROKER": args.broker,
                    "SECRET_KEY": "bench-latency", "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    return env


def manage(env: dict, *command: str) -> None:
    result = subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{result.stderr[-3000:]}")


def prepare(mode: str, env: dict) -> None:
    if mode == "embedded":
        for path in SQLITE_FILE.parent.glob(SQLITE_FILE.name + "*"):
            path.unlink()
    else:
        from bench.webhook import ensure_database

        ensure_database(env["DATABASE_URL"])
    manage(env, "migrate", "--noinput")
    if mode != "embedded":
        subprocess.run(["psql", env["DATABASE_URL"], "-qc", f"TRUNCATE {PG_TABLES} CASCADE"], check=True, capture_output=True)
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        for key in client.scan_iter("django_q:*"):
            client.delete(key)
        for key in client.scan_iter("optionsengine:*"):
            client.delete(key)
    manage(env, "sync_schedules")


def start(env: dict, log_dir: Path) -> list[subprocess.Popen]:
    """qcluster + the web server (bin/serve), as bin/run starts them; each in its own process group."""
    log_dir.mkdir(parents=True, exist_ok=True)
    qcluster = subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True,
                                stdout=open(log_dir / "qcluster.log", "w"), stderr=subprocess.STDOUT)
    web = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=ROOT, env=env, start_new_session=True,
                           stdout=open(log_dir / "web.log", "w"), stderr=subprocess.STDOUT)
    return [qcluster, web]


def stop(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the group this script created for the process
    for proc in processes:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


# --- HTTP -----------------------------------------------------------------------------------------


def post(port: int, path: str, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a new connection, as TradingView opens
    try:
        conn.request("POST", f"{path}?token={SECRET}", body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def wait_for_server(port: int, processes: list[subprocess.Popen]) -> None:
    for _ in range(300):
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a server process exited during start-up (see the logs)")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/webhook/test")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the web server did not come up in 30 s")


def alert(symbol: str, index: int) -> dict:
    return {**ALERT, "ticker": symbol, "timeframe": TIMEFRAMES[index % len(TIMEFRAMES)], "timestamp": NOW,
            "confidence": 80}


# --- one alert ------------------------------------------------------------------------------------


def run_alert(db: Db, port: int, symbol: str, index: int, poll_s: float, timeout_s: float) -> dict:
    sent = time.time()
    status, body = post(port, "/webhook", alert(symbol, index))
    answered = time.time()
    record = {"symbol": symbol, "http": status, "answer_ms": (answered - sent) * 1000}
    if status != 201:
        record["fate"] = f"http_{status}"
        return record
    signal_id = body["signal_id"]
    record["signal_id"] = signal_id
    deadline = sent + timeout_s
    decided_at = None
    while True:
        now = time.time()
        s_status, reason, retry_at, order_id, order_status, trade_id = db.fate(signal_id)
        if s_status in ("approved", "rejected") and decided_at is None:
            decided_at = now
            record["decision_ms"] = (now - sent) * 1000
        if trade_id is not None:
            record.update(fate="filled", fill_ms=(now - sent) * 1000, order_id=str(uuid.UUID(str(order_id))))
            break
        if s_status == "rejected":
            record.update(fate="rejected", reason=reason)
            break
        if order_status in ("failed", "expired", "cancelled"):
            record.update(fate=f"order_{order_status}")
            break
        if s_status == "pending" and retry_at is not None:
            record.update(fate="deferred", decision_ms=(now - sent) * 1000)
            break
        if now > deadline:
            record.update(fate="timeout", last=str((s_status, order_status)))
            break
        time.sleep(poll_s)
    # Per-stage task times (enqueued → finished), read while django-q2 still keeps the rows.
    names = [f"orchestrate:{signal_id}", f"create_orders:{signal_id}"]
    if record.get("order_id"):
        names.append(f"execute:{record['order_id']}")
    wanted = 3 if record["fate"] == "filled" else 1
    for _ in range(100):
        tasks = db.tasks(names)
        if len(tasks) >= wanted:
            break
        time.sleep(0.005)
    record["tasks"] = {name.split(":")[0]: (start - sent, stop - sent) for name, (start, stop) in tasks.items()}
    if record["fate"] == "filled":
        db.flatten()
    return record


# --- report ---------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def line(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{pct(values, 50):.0f} / {pct(values, 99):.0f} / {max(values):.0f} ms (n={len(values)})"


def report(title: str, records: list[dict], seconds: float) -> str:
    fates = Counter(r["fate"] for r in records)
    fills = [r["fill_ms"] for r in records if r["fate"] == "filled"]
    rejected = [r["decision_ms"] for r in records if r["fate"] == "rejected"]
    approved_decision = [r["decision_ms"] for r in records if r["fate"] == "filled" and "decision_ms" in r]
    answers = [r["answer_ms"] for r in records]
    reasons = Counter((r.get("reason") or "").split(":")[0] for r in records if r["fate"] == "rejected")
    out = [f"### {title}", "", "| measure | p50 / p99 / max |", "|---|---|",
           f"| webhook → `trades` row (filled) | **{line(fills)}** |",
           f"| webhook → rejected (decision) | {line(rejected)} |",
           f"| webhook → approved (decision, filled alerts) | {line(approved_decision)} |",
           f"| HTTP answer (201) | {line(answers)} |"]
    # Stage breakdown of filled alerts: each stage task from its enqueue to its end, ms after the POST.
    full = [r["tasks"] for r in records if r["fate"] == "filled" and len(r.get("tasks", {})) == 3]
    if full:
        def med(fn):
            return statistics.median(fn(t) for t in full) * 1000
        out += [
            f"| stage: POST → orchestrator task enqueued (webhook commit) | {med(lambda t: t['orchestrate'][0]):.0f} ms (median) |",
            f"| stage: orchestrator task, queued + run | {med(lambda t: t['orchestrate'][1] - t['orchestrate'][0]):.0f} ms |",
            f"| stage: order creator task, queued + run | {med(lambda t: t['create_orders'][1] - t['create_orders'][0]):.0f} ms |",
            f"| stage: paper executor task, queued + run | {med(lambda t: t['execute'][1] - t['execute'][0]):.0f} ms |",
            f"| stage: executor end → fill seen by the poll | {statistics.median(r['fill_ms'] / 1000 - r['tasks']['execute'][1] for r in records if r['fate'] == 'filled' and len(r.get('tasks', {})) == 3) * 1000:.0f} ms |",
        ]
    mix = ", ".join(f"{k} {v}" for k, v in sorted(fates.items()))
    out += [f"| outcomes ({len(records)} alerts in {seconds:.0f} s) | {mix} |",
            f"| rejection reasons | {', '.join(f'{k} {v}' for k, v in reasons.most_common()) or '—'} |",
            f"| stage tasks picked up by a sweep instead (no per-stage row) | {sum(1 for r in records if r['fate'] == 'filled') - len(full)} |", ""]
    return "\n".join(out)


def run_mode(mode: str, args) -> tuple[str, list[dict]]:
    env = mode_env(mode, args)
    prepare(mode, env)
    db = Db(mode, env.get("DATABASE_URL"))
    processes = start(env, ROOT / "var" / f"bench-latency-{mode}")
    try:
        wait_for_server(args.port, processes)
        symbols = [f"LT{i:03d}" for i in range(args.alerts)]
        warmup = [f"LW{i}" for i in range(3)]
        at_ms = int(datetime.fromisoformat(NOW).timestamp() * 1000)
        for symbol in warmup + symbols:
            status, body = post(args.port, "/api/webhooks/mtf-bias", seed_payload(symbol, "BULLISH", event_ts_ms=at_ms, session="RTH"))
            if status != 200:
                raise RuntimeError(f"bias seed for {symbol}: {status} {body}")
        for i, symbol in enumerate(warmup):  # workers up and warm; not counted
            run_alert(db, args.port, symbol, i + 1, args.poll_ms / 1000, 60)
        records = []
        began = time.time()
        for i, symbol in enumerate(symbols):
            records.append(run_alert(db, args.port, symbol, i, args.poll_ms / 1000, args.timeout))
            if args.progress and (i + 1) % 25 == 0:
                print(f"  {mode}: {i + 1}/{len(symbols)}", file=sys.stderr)
            time.sleep(args.gap)
        seconds = time.time() - began
    finally:
        stop(processes)
        db.close()
    broker = "ORM" if mode == "embedded" else args.broker.upper()
    title = ("embedded: SQLite file, ORM broker, 1 queue worker" if mode == "embedded"
             else f"PostgreSQL + Redis cache, {broker} broker, {env.get('Q_WORKERS', '4')} queue workers")
    return report(title + f", granian {os.environ.get('WEB_WORKERS', '2')} workers", records, seconds), records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="embedded,postgres", help="comma list of embedded, postgres")
    parser.add_argument("--broker", choices=("orm", "redis"), default="redis",
                        help="postgres mode's django-q2 broker (redis: the README's scaled set-up)")
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between one alert's outcome and the next POST")
    parser.add_argument("--poll-ms", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for one alert's outcome")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--json", help="also write every alert's record to this file")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    all_records = {}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        if mode not in ("embedded", "postgres"):
            parser.error(f"unknown mode {mode}")
        text, records = run_mode(mode, args)
        all_records[mode] = records
        print(text, flush=True)
    print(f"_{args.alerts} alerts per mode, gap {args.gap} s, poll {args.poll_ms} ms, clock frozen at {NOW}; run {started}._")
    if args.json:
        Path(args.json).write_text(json.dumps(all_records, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
