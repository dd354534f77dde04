"""Positions, exit rules and the drawdown breaker (SPEC §2, §8–§10)."""

from __future__ import annotations

import uuid

from django.db import models

from optionsengine.lib.fields import CashField, Engine, OptionType, PercentField, PriceField, ScoreField, choices_check


class PositionStatus(models.TextChoices):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Position(models.Model):
    Status = PositionStatus

    position_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry_order = models.OneToOneField("orders_app.Order", on_delete=models.PROTECT, related_name="opened_position")
    symbol = models.CharField(max_length=20)
    option_symbol = models.CharField(max_length=48)
    occ_symbol = models.CharField(max_length=32)
    strike = PriceField()
    expiration = models.DateField()
    type = models.CharField(max_length=4, choices=OptionType.choices)
    quantity = models.IntegerField()  # open contracts; reaches 0 at the final close
    initial_quantity = models.IntegerField()
    entry_price = PriceField()
    current_price = PriceField(null=True, blank=True)
    underlying_entry_price = PriceField(null=True, blank=True)
    unrealized_pnl = CashField(null=True, blank=True)
    realized_pnl = CashField(default=0)  # accumulates partial closes
    position_pnl_percent = PercentField(null=True, blank=True)
    high_water_mark = PriceField(null=True, blank=True)
    trailing_stop_price = PriceField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=PositionStatus.choices, default=PositionStatus.OPEN)
    exit_reason = models.CharField(max_length=64, null=True, blank=True)
    exit_reason_codes = models.JSONField(default=list, blank=True)
    exit_price = PriceField(null=True, blank=True)
    exit_timestamp = models.DateTimeField(null=True, blank=True)
    entry_timestamp = models.DateTimeField()
    last_updated = models.DateTimeField()
    partials_taken = models.JSONField(default=list, blank=True)  # rung / check ids already fired
    engine = models.CharField(max_length=1, choices=Engine.choices, null=True, blank=True)
    experiment_id = models.UUIDField(null=True, blank=True)
    entry_bias_score = ScoreField(null=True, blank=True)
    entry_regime_type = models.CharField(max_length=32, null=True, blank=True)
    entry_mode_hint = models.CharField(max_length=32, null=True, blank=True)
    entry_macro_class = models.CharField(max_length=50, null=True, blank=True)
    entry_acceleration_state_strength_delta = ScoreField(null=True, blank=True)
    greeks_at_entry = models.JSONField(null=True, blank=True)
    iv_at_entry = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    setup_type = models.CharField(max_length=16, null=True, blank=True)
    is_test = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "refactored_positions"
        ordering = ["-entry_timestamp"]
        indexes = [
            models.Index(fields=["status", "symbol"], name="positions_status_symbol_idx"),
            models.Index(fields=["option_symbol", "status"], name="positions_option_symbol_idx"),
            models.Index(fields=["-exit_timestamp"], name="positions_exit_ts_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="positions_quantity_non_negative"),
            models.CheckConstraint(condition=models.Q(initial_quantity__gt=0), name="positions_initial_quantity_positive"),
            choices_check("status", PositionStatus, "refactored_positions"),
            choices_check("type", OptionType, "refactored_positions"),
            choices_check("engine", Engine, "refactored_positions", nullable=True),
        ]

    def __str__(self) -> str:
        return f"{self.quantity}× {self.option_symbol} ({self.status})"


class ExitRule(models.Model):
    """Exit rules; the newest enabled row applies. Percentages are of the option's entry price."""

    rule_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rule_name = models.CharField(max_length=50)
    profit_target_percent = PercentField(default=50)
    stop_loss_percent = PercentField(default=50)
    max_hold_time_hours = models.IntegerField(default=120)
    min_dte_exit = models.IntegerField(default=1)
    trailing_stop_percent = PercentField(default=15)
    trailing_stop_activation_percent = PercentField(default=20)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "exit_rules"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.rule_name


class CircuitBreakerState(models.Model):
    """The drawdown breaker, one row (id = 1), persisted so a freeze survives restarts."""

    id = models.IntegerField(primary_key=True, default=1)
    freeze_until = models.DateTimeField(null=True, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    drawdown_pct = PercentField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "circuit_breaker_state"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="circuit_breaker_state_single_row")]
