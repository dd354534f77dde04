"""manage.py seed_bias SYMBOL BULLISH|BEARISH|NEUTRAL — a fresh bias state without a bias feed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bias_app.engines.seed import SEED_BIASES, seed_payload
from bias_app.engines.staleness import now_ms
from bias_app.models import BiasStateCurrent
from bias_app.services.ingest import ingest_bias_payload
from optionsengine.lib import clock
from optionsengine.lib.market_calendar import is_regular_hours
from optionsengine.lib.symbols import normalize_symbol
from optionsengine.lib.transactions import entry_point_transaction


class Command(BaseCommand):
    help = "Write a fresh bias state for SYMBOL through the bias service (for testing without a bias feed)."

    def add_arguments(self, parser):
        parser.add_argument("symbol", help="e.g. SPY")
        parser.add_argument("bias", type=str.upper, choices=SEED_BIASES, help="the consensus bias to seed")

    def handle(self, *args, symbol: str, bias: str, **options):
        normalized = normalize_symbol(symbol)
        if normalized is None:
            raise CommandError(f"{symbol!r} is not a valid symbol")
        now = clock.now()
        with entry_point_transaction():
            stored = BiasStateCurrent.objects.filter(symbol=normalized).values_list("updated_at_ms", flat=True).first()
            # Strictly newer than what is stored, or the service would (rightly) call it out of order.
            event_ts_ms = max(now_ms(now), (stored or 0) + 1)
            payload = seed_payload(normalized, bias, event_ts_ms=event_ts_ms, session="RTH" if is_regular_hours(now) else "ETH")
            outcome = ingest_bias_payload(payload=payload, kind="bias_v3", received_at=now)
        if outcome.http_status != 200 or outcome.state is None:
            raise CommandError(f"bias state not written: {outcome.body}")
        effective = outcome.state["effective"]
        self.stdout.write(
            f"{normalized}: {bias} score {outcome.state['biasScore']} confidence {effective['effectiveConfidence']} "
            f"(event {outcome.event_id[:12]}, updatedAtMs {outcome.state['updatedAtMs']})"
        )
