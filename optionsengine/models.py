"""Models owned by the project package itself (not by a pipeline app)."""

from __future__ import annotations

from django.db import models

from optionsengine.lib.fields import choices_check
from optionsengine.lib.money import PRICE_MAX_DIGITS, PRICE_PLACES


class PriceAnchor(models.Model):
    """The newest observed price of a symbol that the simulated market re-anchors to.

    Kept in the database, not process memory, so the web process that accepts a signal and the
    workers that later price it see the same market (see optionsengine/marketdata/anchors.py).
    """

    symbol = models.CharField(max_length=20, unique=True)
    price = models.DecimalField(max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_PLACES)
    anchored_at = models.DateTimeField()

    class Meta:
        db_table = "market_price_anchors"
        constraints = [models.CheckConstraint(condition=models.Q(price__gt=0), name="market_price_anchor_price_positive")]

    def __str__(self) -> str:
        return f"{self.symbol} @ {self.price} ({self.anchored_at:%Y-%m-%d %H:%M:%S}Z)"


class WebhookMessageId(models.Model):
    """A Standard Webhooks `webhook-id` already acted on: a replay within the tolerance is refused.

    Written in the same transaction as the request's outcome, so a delivery that failed (500) can be
    retried with the same id. Rows older than twice the tolerance are deleted as new ones arrive.
    """

    message_id = models.CharField(max_length=255, primary_key=True)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "webhook_message_ids"

    def __str__(self) -> str:
        return self.message_id


class SecurityEventKind(models.TextChoices):
    LOGIN_THROTTLED = "login_throttled"


class SecurityEvent(models.Model):
    """A refused authentication request outside the webhook (whose requests are audited in
    `webhook_events`): today, a token login answered 429 by its throttle. Who, when, as whom."""

    Kind = SecurityEventKind

    kind = models.CharField(max_length=40, choices=SecurityEventKind.choices)
    client_addr = models.CharField(max_length=64)  # REMOTE_ADDR, the throttle's key
    username = models.CharField(max_length=150, blank=True)  # the name tried (never the password)
    detail = models.CharField(max_length=300)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "security_events"
        constraints = [choices_check("kind", SecurityEventKind, "security_events")]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_addr} {self.created_at:%Y-%m-%d %H:%M:%S}"
