"""Bias state and adaptive tuning tables (SPEC §2, §4, §11). The database is the source of truth."""

from __future__ import annotations

import uuid

from django.db import models

from optionsengine.lib.fields import CashField, Direction, Engine, PercentField, ScoreField, choices_check


class BiasStateCurrent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    symbol = models.CharField(max_length=20, unique=True)
    updated_at_ms = models.BigIntegerField()  # event_ts_ms of the applied event (ordering guard)
    state_json = models.JSONField()  # the camelCase UnifiedBiasState
    event_id_raw = models.TextField()
    source = models.CharField(max_length=50)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "bias_state_current"
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol


class BiasStateHistoryStatus(models.TextChoices):
    ACCEPTED = "accepted"
    OUT_OF_ORDER = "out_of_order"


class BiasStateHistory(models.Model):
    Status = BiasStateHistoryStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_id_raw = models.TextField(unique=True)  # idempotency: a resend is recognised here
    event_id = models.CharField(max_length=64)  # sha256 hex of event_id_raw
    symbol = models.CharField(max_length=20)
    event_ts_ms = models.BigIntegerField()
    event_type = models.CharField(max_length=50, null=True, blank=True)
    source = models.CharField(max_length=50)
    state_json = models.JSONField()
    status = models.CharField(max_length=16, choices=BiasStateHistoryStatus.choices, default=BiasStateHistoryStatus.ACCEPTED)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "bias_state_history"
        ordering = ["-event_ts_ms"]
        indexes = [models.Index(fields=["symbol", "-event_ts_ms"], name="bias_history_symbol_ts_idx")]
        constraints = [choices_check("status", BiasStateHistoryStatus, "bias_state_history")]


class BiasConfigKey(models.TextChoices):
    GATING = "gating"
    STALENESS = "staleness"
    RISK = "risk"
    ADAPTIVE = "adaptive"


class BiasConfig(models.Model):
    Key = BiasConfigKey

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    config_key = models.CharField(max_length=16, choices=BiasConfigKey.choices, unique=True)
    config_json = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "bias_config"
        ordering = ["config_key"]
        constraints = [choices_check("config_key", BiasConfigKey, "bias_config")]

    def __str__(self) -> str:
        return self.config_key


class BiasAdaptiveConfigHistory(models.Model):
    """Append-only: every tuner change, applied or dry-run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    config_key = models.CharField(max_length=16)
    parameter_name = models.CharField(max_length=80)
    previous_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    reason = models.TextField(null=True, blank=True)
    rolling_metrics = models.JSONField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "bias_adaptive_config_history"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"], name="bias_adaptive_hist_created_idx")]


class BiasTradePerformanceSource(models.TextChoices):
    LIVE = "live"
    REPLAY = "replay"
    SIMULATION = "simulation"


class BiasTradePerformance(models.Model):
    """Written at entry (context), completed at the final close (P&L). Feeds the adaptive tuner."""

    Source = BiasTradePerformanceSource

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    position = models.OneToOneField("positions_app.Position", on_delete=models.CASCADE, related_name="performance")
    symbol = models.CharField(max_length=20)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    engine = models.CharField(max_length=1, choices=Engine.choices, null=True, blank=True)
    pnl_r = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    pnl_percent = PercentField(null=True, blank=True)
    realized_pnl = CashField(null=True, blank=True)
    duration_minutes = models.IntegerField(null=True, blank=True)
    entry_bias_score = ScoreField(null=True, blank=True)
    entry_macro_class = models.CharField(max_length=50, null=True, blank=True)
    entry_regime = models.CharField(max_length=32, null=True, blank=True)
    entry_intent = models.CharField(max_length=32, null=True, blank=True)
    entry_acceleration = ScoreField(null=True, blank=True)
    exit_reason_codes = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=12, choices=BiasTradePerformanceSource.choices, default=BiasTradePerformanceSource.LIVE)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "bias_trade_performance"
        ordering = ["-closed_at"]
        indexes = [models.Index(fields=["source", "-closed_at"], name="bias_perf_source_closed_idx")]
        constraints = [
            choices_check("direction", Direction, "bias_trade_performance"),
            choices_check("source", BiasTradePerformanceSource, "bias_trade_performance"),
            choices_check("engine", Engine, "bias_trade_performance", nullable=True),
        ]
