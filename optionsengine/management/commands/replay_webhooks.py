"""`manage.py replay_webhooks`: post the alerts of a JSON file to a running server (the seed's
run-e2e-replay, SPEC §13).

    manage.py replay_webhooks --file alerts.json [--url http://host:8000] [--delay 500] [--limit 20]

The file is a JSON array of alert bodies, or an object holding one under `payloads`, `webhooks` or
`results` (entries may wrap the body as `{"payload": {...}}`). Without `--file` three built-in
test alerts (SPY, QQQ, IWM, `is_test`) are sent. Each alert is posted as-is, in order, `--delay`
milliseconds apart; with a webhook secret (`--secret`, default WEBHOOK_SECRET) each body is signed
in `X-Webhook-Signature`. Prints one line per alert and a summary, and writes a JSON report
(`--report`) that `validate_e2e` can follow.

Exit status: 0 when every alert got a 2xx (accepted or duplicate); 1 when any was rejected (4xx,
unless --allow-rejected), errored (5xx) or got no answer; the server being unreachable on the
first alert stops the run.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from optionsengine.management.commands import _server

BUILTIN_ALERTS = [
    {"ticker": "SPY", "interval": "5", "direction": "long", "confidence": 80, "is_test": True},
    {"ticker": "QQQ", "interval": "15", "direction": "short", "confidence": 80, "is_test": True},
    {"ticker": "IWM", "interval": "5", "direction": "long", "confidence": 80, "is_test": True},
]


def load_alerts(path: str | None) -> list[dict]:
    if not path:
        return [dict(alert) for alert in BUILTIN_ALERTS]
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise CommandError(f"no such file: {path}") from exc
    except ValueError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        data = next((data[key] for key in ("payloads", "webhooks", "results") if isinstance(data.get(key), list)), None)
    if not isinstance(data, list):
        raise CommandError(f"{path}: expected a JSON array of alerts (or an object with payloads/webhooks/results)")
    alerts = [item["payload"] if isinstance(item, dict) and isinstance(item.get("payload"), dict) else item for item in data]
    bad = [i for i, alert in enumerate(alerts) if not isinstance(alert, dict)]
    if bad:
        raise CommandError(f"{path}: entries {bad[:5]} are not JSON objects")
    return alerts


def outcome_of(answer: _server.Answer) -> str:
    if answer.status is None:
        return "no_answer"
    if answer.status >= 500:
        return "error"
    if answer.status >= 400:
        return "rejected"
    status = str(answer.body.get("status") or answer.body.get("success") or "ok").lower()
    return "duplicate" if status == "duplicate" else "accepted"


class Command(BaseCommand):
    help = "Replay TradingView alerts from a JSON file to a running server's webhook."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="JSON file of alerts (default: three built-in is_test alerts)")
        parser.add_argument("--url", help=f"server or webhook URL (default {settings.BACKEND_URL}/webhook)")
        parser.add_argument("--delay", type=int, default=500, help="milliseconds between alerts (default 500)")
        parser.add_argument("--limit", type=int, help="send at most this many alerts")
        parser.add_argument("--token", help="API token (default BACKEND_TOKEN, or BACKEND_EMAIL/BACKEND_PASSWORD)")
        parser.add_argument("--secret", default=None, help="webhook secret to sign with (default WEBHOOK_SECRET)")
        parser.add_argument("--report", default=str(Path(settings.VAR_DIR) / "e2e-replay-report.json"),
                            help="where to write the JSON report ('' for none)")
        parser.add_argument("--allow-rejected", action="store_true", help="4xx answers do not fail the run")

    def handle(self, *args, **options):
        alerts = load_alerts(options["file"])
        if options["limit"] is not None:
            alerts = alerts[: max(options["limit"], 0)]
        url = _server.webhook_url(options["url"])
        secret = settings.WEBHOOK_SECRET if options["secret"] is None else options["secret"]
        server = url.rsplit("/webhook", 1)[0]
        headers = _server.auth_headers(_server.resolve_token(options["token"], server))
        self.stdout.write(f"replaying {len(alerts)} alert(s) to {url}" + (" (signed)" if secret else ""))

        rows, tally = [], Counter()
        with tqdm(total=len(alerts), unit="alert", disable=None, file=self.stderr._out) as bar:
            for index, alert in enumerate(alerts, start=1):
                answer = _server.post_json(url, alert, headers=headers, secret=secret)
                if answer.status is None and index == 1:
                    raise _server.unreachable(url, answer)
                outcome = outcome_of(answer)
                tally[outcome] += 1
                rows.append({"index": index, "symbol": alert.get("ticker") or alert.get("symbol"), "http": answer.status,
                             "outcome": outcome, "signal_id": answer.body.get("signal_id") or answer.body.get("duplicate_of"),
                             "detail": answer.error or answer.body.get("error") or answer.body.get("message") or ""})
                tqdm.write(self._line(rows[-1]), file=self.stdout._out)
                bar.update(1)
                if options["delay"] > 0 and index < len(alerts):
                    time.sleep(options["delay"] / 1000)

        summary = ", ".join(f"{k}={v}" for k, v in sorted(tally.items())) or "nothing sent"
        self.stdout.write(f"summary: {summary}")
        if options["report"]:
            report = Path(options["report"])
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(json.dumps({"url": url, "summary": dict(tally), "results": rows}, indent=2))
            self.stdout.write(f"report: {report}")
        failed = tally["error"] + tally["no_answer"] + (0 if options["allow_rejected"] else tally["rejected"])
        if failed:
            raise CommandError(f"{failed} of {len(alerts)} alert(s) did not land")

    def _line(self, row: dict) -> str:
        detail = f"  {row['detail']}" if row["detail"] else ""
        signal = f"  signal {row['signal_id']}" if row["signal_id"] else ""
        return f"[{row['index']}] {row['symbol'] or '?'}: {row['outcome']} (HTTP {row['http'] or '-'}){signal}{detail}"
