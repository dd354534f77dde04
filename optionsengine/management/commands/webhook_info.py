"""Print where TradingView should send alerts, with a copy-paste curl example."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the webhook URL, the auth status and a curl example."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="host name to print in the URL")
        parser.add_argument("--port", type=int, default=8000, help="port the server listens on")

    def handle(self, *args, **options):
        base = f"http://{options['host']}:{options['port']}"
        alert = {"ticker": "SPY", "interval": "5", "direction": "long", "price": 601.25, "timestamp": "2026-03-13T14:30:00Z"}
        if settings.WEBHOOK_SECRET:
            alert["secret"] = "<your WEBHOOK_SECRET>"
        auth = "on (send the secret in the body, ?token= or X-Webhook-Signature)" if settings.WEBHOOK_SECRET else "off (set WEBHOOK_SECRET to require it)"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"optionsengine is starting ({'embedded: SQLite + local cache' if settings.EMBEDDED else 'scaled: DATABASE_URL'})",
                    f"  webhook:  {base}/webhook      (TradingView alert URL)",
                    f"  health:   {base}/health",
                    f"  admin:    {base}/admin/       (create a login: .venv/bin/python manage.py createsuperuser)",
                    f"  auth:     {auth}",
                    "",
                    "Try it:",
                    f"  curl -s -X POST {base}/webhook -H 'Content-Type: application/json' \\",
                    f"       -d '{json.dumps(alert)}'",
                    "",
                ]
            )
        )
