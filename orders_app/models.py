"""Orders, fills and risk limits (SPEC §2, §7, §8)."""

from __future__ import annotations

import uuid

from django.db import models

from optionsengine.lib.fields import CashField, Engine, OptionType, PercentField, PriceField, choices_check


class OrderSide(models.TextChoices):
    ENTRY = "entry"
    EXIT = "exit"


class OrderOrderType(models.TextChoices):
    PAPER = "paper"


class OrderStatus(models.TextChoices):
    PENDING_EXECUTION = "pending_execution"
    FILLED = "filled"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Order(models.Model):
    Side = OrderSide
    OrderType = OrderOrderType
    Status = OrderStatus

    order_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    signal = models.ForeignKey("signals_app.Signal", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    position = models.ForeignKey(
        "positions_app.Position", null=True, blank=True, on_delete=models.SET_NULL, related_name="exit_orders"
    )
    side = models.CharField(max_length=8, choices=OrderSide.choices)
    symbol = models.CharField(max_length=20)
    option_symbol = models.CharField(max_length=48)
    occ_symbol = models.CharField(max_length=32)
    strike = PriceField()
    expiration = models.DateField()
    type = models.CharField(max_length=4, choices=OptionType.choices)
    quantity = models.IntegerField()
    engine = models.CharField(max_length=1, choices=Engine.choices, null=True, blank=True)
    experiment_id = models.UUIDField(null=True, blank=True)
    order_type = models.CharField(max_length=8, choices=OrderOrderType.choices, default=OrderOrderType.PAPER)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_EXECUTION)
    failure_reason = models.TextField(null=True, blank=True)
    exit_reason = models.CharField(max_length=64, null=True, blank=True)
    exit_reason_codes = models.JSONField(default=list, blank=True)
    attempts = models.IntegerField(default=0)
    is_test = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "orders"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], name="orders_pending_idx",
                condition=models.Q(status="pending_execution"),
            ),
            models.Index(fields=["status", "-created_at"], name="orders_status_idx"),
        ]
        constraints = [
            # One entry order per signal: the order creator can retry or run twice safely.
            models.UniqueConstraint(fields=["signal"], condition=models.Q(side="entry"), name="orders_one_entry_per_signal"),
            # At most one open exit order per position: exit monitors racing cannot double-close.
            models.UniqueConstraint(
                fields=["position"], condition=models.Q(side="exit", status="pending_execution"),
                name="orders_one_open_exit_per_position",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orders_quantity_positive"),
            choices_check("side", OrderSide, "orders"),
            choices_check("type", OptionType, "orders"),
            choices_check("order_type", OrderOrderType, "orders"),
            choices_check("status", OrderStatus, "orders"),
            choices_check("engine", Engine, "orders", nullable=True),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.option_symbol} ({self.status})"


class Trade(models.Model):
    trade_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="trade")  # one fill per order
    fill_price = PriceField()
    fill_quantity = models.IntegerField()
    fill_timestamp = models.DateTimeField()
    commission = CashField(default=0)
    bid = PriceField(null=True, blank=True)
    ask = PriceField(null=True, blank=True)
    realized_pnl = CashField(null=True, blank=True)  # exit fills only: (fill − entry) × qty × 100
    engine = models.CharField(max_length=1, choices=Engine.choices, null=True, blank=True)
    experiment_id = models.UUIDField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "trades"
        ordering = ["-fill_timestamp"]
        indexes = [models.Index(fields=["-fill_timestamp"], name="trades_fill_ts_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(fill_quantity__gt=0), name="trades_fill_quantity_positive"),
            choices_check("engine", Engine, "trades", nullable=True),
        ]


class RiskLimit(models.Model):
    """Risk limits; the newest enabled row applies (edited in the admin)."""

    limit_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    max_position_size = models.IntegerField(default=10)  # contracts per trade
    max_positions_per_symbol = models.IntegerField(default=3)
    max_open_positions = models.IntegerField(default=5)
    max_daily_loss = CashField(default=1000)  # USD of realized loss per New York trading day
    max_exposure_percent = PercentField(default=20)
    max_daily_trades = models.IntegerField(default=0)  # entry fills per trading day; 0 = unlimited
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "risk_limits"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_position_size__gte=1, max_positions_per_symbol__gte=0,
                                   max_open_positions__gte=0, max_daily_loss__gte=0, max_daily_trades__gte=0),
                name="risk_limits_non_negative",
            ),
        ]
