"""`manage.py validate_e2e`: follow test alerts from the webhook to a fill (the seed's
run-e2e-full-pipeline, SPEC §13).

    manage.py validate_e2e --send [--url http://host:8000] [--poll 15] [--max 5] [--cron-secret S]

With `--send`, posts three unique `is_test` alerts (AAPL long 1m, MSFT short 5m, XLK long 15m;
NVDA/AMD/GOOGL stand in when one is a duplicate of a recent alert) to the running server;
without it, follows the accepted signals of the last `replay_webhooks` report. `--seed-bias`
first posts a matching bias state per symbol (so the bias gate can pass on a fresh install; it
writes real bias state — not for a production server). Then polls every `--poll` seconds, for at
most `--max` minutes, until each signal is filled or rejected; `--cron-secret` triggers
`POST /api/cron/process-queue` before every poll instead of waiting for workers.

Progress is read from the database this command is configured with (run it with the server's
DATABASE_URL). Prints a table. Exit status 1 when a signal is still in flight at the deadline
(stuck), or with `--require-fill` when any signal did not fill.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from bias_app.engines.seed import seed_payload
from optionsengine.lib import clock
from optionsengine.management.commands import _server
from orders_app.models import Order, Trade
from signals_app.models import Signal

ALERTS = [("AAPL", "long", "1"), ("MSFT", "short", "5"), ("XLK", "long", "15")]
STAND_INS = ["NVDA", "AMD", "GOOGL"]
FILLED, REJECTED = "filled", "rejected"
TERMINAL_ORDER = {Order.Status.FAILED, Order.Status.EXPIRED, Order.Status.CANCELLED}


def progress(signal_id: str) -> dict:
    """Where one signal is now: `state` is filled / rejected / order_<status> (terminal) or an
    in-flight label."""
    signal = Signal.objects.filter(pk=signal_id).values("symbol", "direction", "timeframe", "status",
                                                         "rejection_reason").first()
    if signal is None:
        return {"state": "not_in_database", "symbol": "?", "reason": "not in this database (use the server's DATABASE_URL)"}
    row = {**signal, "reason": signal["rejection_reason"] or "", "order": "", "fill": ""}
    order = Order.objects.filter(signal_id=signal_id, side=Order.Side.ENTRY).values("order_id", "status", "failure_reason").first()
    if order:
        row["order"] = order["status"]
        fill = Trade.objects.filter(order_id=order["order_id"]).values_list("fill_price", flat=True).first()
        if fill is not None:
            return {**row, "state": FILLED, "fill": str(fill)}
        if order["status"] in TERMINAL_ORDER:
            return {**row, "state": f"order_{order['status']}", "reason": order["failure_reason"] or ""}
        return {**row, "state": "order_pending"}
    if signal["status"] == Signal.Status.REJECTED:
        return {**row, "state": REJECTED}
    return {**row, "state": "approved" if signal["status"] == Signal.Status.APPROVED else "pending"}


def is_terminal(state: str) -> bool:
    return state in (FILLED, REJECTED) or state.startswith("order_") and state != "order_pending"


class Command(BaseCommand):
    help = "Send test alerts to a running server and poll until each is filled or rejected."

    def add_arguments(self, parser):
        parser.add_argument("--send", action="store_true", help="send three unique is_test alerts first")
        parser.add_argument("--url", help=f"server URL (default {settings.BACKEND_URL})")
        parser.add_argument("--poll", type=float, default=15.0, help="seconds between polls (default 15)")
        parser.add_argument("--max", type=float, default=5.0, help="minutes to wait at most (default 5)")
        parser.add_argument("--cron-secret", help="trigger /api/cron/process-queue with this secret before each poll")
        parser.add_argument("--seed-bias", action="store_true", help="post a matching bias state per symbol first")
        parser.add_argument("--secret", default=None, help="webhook secret to sign with (default WEBHOOK_SECRET)")
        parser.add_argument("--token", help="API token (default BACKEND_TOKEN, or BACKEND_EMAIL/BACKEND_PASSWORD)")
        parser.add_argument("--report", default=str(Path(settings.VAR_DIR) / "e2e-replay-report.json"),
                            help="replay report to follow when --send is not given")
        parser.add_argument("--require-fill", action="store_true", help="exit 1 unless every signal filled")

    def handle(self, *args, **options):
        server = _server.base_url(options["url"])
        secret = settings.WEBHOOK_SECRET if options["secret"] is None else options["secret"]
        headers = _server.auth_headers(_server.resolve_token(options["token"], server))
        if options["send"]:
            signal_ids = self._send(server, secret, headers, seed_bias=options["seed_bias"])
        else:
            signal_ids = self._from_report(options["report"])
        if not signal_ids:
            raise CommandError("no signal to follow (every alert was rejected or a duplicate)")

        started = time.monotonic()
        deadline = started + options["max"] * 60
        settled_at: dict[str, float] = {}
        rows: dict[str, dict] = {}
        with tqdm(total=len(signal_ids), unit="signal", desc="settled", disable=None, file=self.stderr._out) as bar:
            while True:
                if options["cron_secret"]:
                    self._trigger_cron(server, options["cron_secret"])
                for signal_id in signal_ids:
                    rows[signal_id] = progress(signal_id)
                    if is_terminal(rows[signal_id]["state"]) and signal_id not in settled_at:
                        settled_at[signal_id] = time.monotonic() - started
                        bar.update(1)
                states = ", ".join(f"{rows[s].get('symbol', '?')}={rows[s]['state']}" for s in signal_ids)
                tqdm.write(f"[{time.monotonic() - started:5.1f}s] {states}", file=self.stdout._out)
                if len(settled_at) == len(signal_ids) or time.monotonic() >= deadline:
                    break
                time.sleep(max(0.0, min(options["poll"], deadline - time.monotonic())))

        self._table(signal_ids, rows, settled_at)
        stuck = [s for s in signal_ids if s not in settled_at]
        if stuck:
            raise CommandError(f"{len(stuck)} signal(s) stuck after {options['max']} min: "
                               + ", ".join(f"{s} ({rows[s]['state']})" for s in stuck))
        unfilled = [s for s in signal_ids if rows[s]["state"] != FILLED]
        if options["require_fill"] and unfilled:
            raise CommandError(f"{len(unfilled)} signal(s) did not fill")
        filled = len(signal_ids) - len(unfilled)
        self.stdout.write(f"done: {filled} filled, {len(unfilled)} rejected, nothing stuck")

    # --- sending ------------------------------------------------------------------------------

    def _send(self, server: str, secret: str, headers: dict, *, seed_bias: bool) -> list[str]:
        url = f"{server}/webhook"
        session = f"validate-e2e-{uuid.uuid4().hex[:8]}"
        stand_ins = list(STAND_INS)
        signal_ids = []
        for symbol, direction, interval in ALERTS:
            while symbol:
                if seed_bias:
                    self._seed_bias(server, symbol, direction, secret)
                alert = {"ticker": symbol, "interval": interval, "direction": direction, "confidence": 85,
                         "is_test": True, "test_session_id": session, "test_scenario": "validate_e2e"}
                answer = _server.post_json(url, alert, headers=headers, secret=secret)
                if answer.status is None:
                    raise _server.unreachable(url, answer)
                status = answer.body.get("status")
                self.stdout.write(f"sent {symbol} {direction} {interval}: HTTP {answer.status} {status or answer.body.get('error', '')}")
                if answer.status == 201 and answer.body.get("signal_id"):
                    signal_ids.append(str(answer.body["signal_id"]))
                    break
                if status != "DUPLICATE":
                    raise CommandError(f"the webhook refused a test alert: HTTP {answer.status} {answer.body}")
                symbol = stand_ins.pop(0) if stand_ins else None
        return signal_ids

    def _seed_bias(self, server: str, symbol: str, direction: str, secret: str) -> None:
        bias = "BULLISH" if direction == "long" else "BEARISH"
        payload = seed_payload(symbol, bias, event_ts_ms=int(clock.now().timestamp() * 1000), session="RTH")
        answer = _server.post_json(f"{server}/api/webhooks/mtf-bias", payload, secret=secret)
        if answer.status != 200:
            raise CommandError(f"could not seed the {symbol} bias state: HTTP {answer.status or answer.error} {answer.body}")

    def _from_report(self, path: str) -> list[str]:
        try:
            report = json.loads(Path(path).read_text())
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(f"no replay report at {path}: use --send, or run replay_webhooks first") from exc
        return [str(row["signal_id"]) for row in report.get("results", [])
                if row.get("outcome") == "accepted" and row.get("signal_id")]

    def _trigger_cron(self, server: str, secret: str) -> None:
        url = f"{server}/api/cron/process-queue"
        answer = _server.post_json(url, {}, headers={"X-Cron-Secret": secret}, timeout=60)
        if answer.status is None:
            raise _server.unreachable(url, answer)
        if answer.status != 200:
            raise CommandError(f"cron endpoint refused: HTTP {answer.status} {answer.body.get('error', '')}")
        for error in answer.body.get("errors", []):
            self.stderr.write(f"  cron: {error}")

    # --- output -------------------------------------------------------------------------------

    def _table(self, signal_ids: list[str], rows: dict, settled_at: dict) -> None:
        header = ("signal", "symbol", "dir", "tf", "state", "order", "fill", "after", "reason")
        lines = [header]
        for signal_id in signal_ids:
            row = rows[signal_id]
            after = f"{settled_at[signal_id]:.1f}s" if signal_id in settled_at else "-"
            lines.append((signal_id[:8], row.get("symbol", "?"), row.get("direction", ""), row.get("timeframe", ""),
                          row["state"], row.get("order", ""), row.get("fill", ""), after, row.get("reason", "")[:60]))
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        for line in lines:
            self.stdout.write("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
