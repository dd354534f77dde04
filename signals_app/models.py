"""Ingestion and decision tables (SPEC §2): webhook_events, signals and the orchestrator's rows."""

from __future__ import annotations

import uuid

from django.db import models

from optionsengine.lib.fields import Direction, Engine, PriceField, choices_check


class WebhookEventKind(models.TextChoices):
    SIGNAL = "signal"
    BIAS_V3 = "bias_v3"
    BIAS_LEGACY = "bias_legacy"


class WebhookEventStatus(models.TextChoices):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_PAYLOAD = "invalid_payload"
    ERROR = "error"


class WebhookEvent(models.Model):
    """One row for every request to /webhook and /api/webhooks/mtf-bias, whatever the outcome."""

    Kind = WebhookEventKind
    Status = WebhookEventStatus

    event_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request_id = models.UUIDField()
    kind = models.CharField(max_length=16, choices=WebhookEventKind.choices, default=WebhookEventKind.SIGNAL)
    status = models.CharField(max_length=20, choices=WebhookEventStatus.choices)
    error_message = models.TextField(null=True, blank=True)
    symbol = models.CharField(max_length=32, null=True, blank=True)
    direction = models.CharField(max_length=8, null=True, blank=True)
    timeframe = models.CharField(max_length=16, null=True, blank=True)
    signal = models.ForeignKey("signals_app.Signal", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events")
    processing_time_ms = models.IntegerField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    test_session_id = models.CharField(max_length=128, null=True, blank=True)
    test_scenario = models.CharField(max_length=128, null=True, blank=True)
    raw_payload = models.JSONField(null=True, blank=True)  # secret redacted; > 32 KiB truncated
    created_at = models.DateTimeField()

    class Meta:
        db_table = "webhook_events"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at"], name="webhook_events_created_idx"),
            models.Index(fields=["status", "-created_at"], name="webhook_events_status_idx"),
        ]
        constraints = [
            choices_check("kind", WebhookEventKind, "webhook_events"),
            choices_check("status", WebhookEventStatus, "webhook_events"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.symbol or ''}".strip()


class SignalStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Signal(models.Model):
    Status = SignalStatus

    signal_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    symbol = models.CharField(max_length=20)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    timeframe = models.CharField(max_length=16)
    timestamp = models.DateTimeField()
    status = models.CharField(max_length=16, choices=SignalStatus.choices, default=SignalStatus.PENDING)
    rejection_reason = models.TextField(null=True, blank=True)
    raw_payload = models.JSONField(null=True, blank=True)
    signal_hash = models.CharField(max_length=64)
    is_test = models.BooleanField(default=False)
    test_session_id = models.CharField(max_length=128, null=True, blank=True)
    test_scenario = models.CharField(max_length=128, null=True, blank=True)
    processed = models.BooleanField(default=False)
    # Lease: processing_lock + locked_by (a unique lease token) + locked_at. A worker writes its
    # final result only where locked_by still equals its token, so a lease recovered after
    # LOCK_STALENESS_MINUTES cannot be overwritten by the late original worker.
    processing_lock = models.BooleanField(default=False)
    locked_by = models.CharField(max_length=100, null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    processing_attempts = models.IntegerField(default=0)
    wait_attempts = models.IntegerField(default=0)  # tier-2 WAIT re-checks, counted apart from faults
    next_retry_at = models.DateTimeField(null=True, blank=True)
    queued_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    queue_reason = models.CharField(max_length=64, null=True, blank=True)
    experiment_id = models.UUIDField(null=True, blank=True)  # copy of experiments.experiment_id
    meta_gamma = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "signals"
        ordering = ["-created_at"]
        indexes = [
            # The atomic duplicate check: same key received within the window.
            models.Index(fields=["symbol", "direction", "timeframe", "is_test", "-created_at"], name="signals_dedup_idx"),
            # Orchestrator claims: only unprocessed, unlocked rows are scanned.
            models.Index(
                fields=["created_at"], name="signals_claimable_idx",
                condition=models.Q(processed=False, processing_lock=False),
            ),
            models.Index(fields=["status", "-created_at"], name="signals_status_idx"),
            models.Index(fields=["-created_at"], name="signals_created_idx"),
        ]
        constraints = [choices_check("status", SignalStatus, "signals"), choices_check("direction", Direction, "signals")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.direction} {self.timeframe} ({self.status})"


class RefactoredSignal(models.Model):
    refactored_signal_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    signal = models.OneToOneField(Signal, on_delete=models.CASCADE, related_name="refactored")
    enriched_data = models.JSONField(null=True, blank=True)
    risk_check_result = models.JSONField(null=True, blank=True)
    rejection_reason = models.TextField(null=True, blank=True)
    processed_at = models.DateTimeField()

    class Meta:
        db_table = "refactored_signals"


class MarketContext(models.Model):
    context_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    signal = models.OneToOneField(Signal, on_delete=models.CASCADE, related_name="market_context")
    timestamp = models.DateTimeField()
    symbol = models.CharField(max_length=20)
    current_price = PriceField(null=True, blank=True)
    bid = PriceField(null=True, blank=True)
    ask = PriceField(null=True, blank=True)
    volume = models.BigIntegerField(null=True, blank=True)
    indicators = models.JSONField(default=dict, blank=True)
    context_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "market_contexts"


class ExperimentVariant(models.TextChoices):
    A = "A"
    B = "B"


class Experiment(models.Model):
    Variant = ExperimentVariant

    experiment_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    signal = models.OneToOneField(Signal, on_delete=models.CASCADE, related_name="experiment")
    variant = models.CharField(max_length=1, choices=ExperimentVariant.choices)
    assignment_hash = models.CharField(max_length=64)
    split_percentage = models.DecimalField(max_digits=5, decimal_places=2)  # % routed to B, 0–100
    policy_version = models.CharField(max_length=20, default="v1.0")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "experiments"
        constraints = [
            choices_check("variant", ExperimentVariant, "experiments"),
            models.CheckConstraint(
                condition=models.Q(split_percentage__gte=0, split_percentage__lte=100),
                name="experiments_split_percentage_range",
            ),
        ]


class ExecutionPolicyMode(models.TextChoices):
    ENGINE_A_PRIMARY = "ENGINE_A_PRIMARY"
    ENGINE_B_PRIMARY = "ENGINE_B_PRIMARY"
    SHADOW_ONLY = "SHADOW_ONLY"


class ExecutionPolicy(models.Model):
    Mode = ExecutionPolicyMode

    policy_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    experiment = models.OneToOneField(Experiment, on_delete=models.CASCADE, related_name="execution_policy")
    execution_mode = models.CharField(max_length=20, choices=ExecutionPolicyMode.choices)
    executed_engine = models.CharField(max_length=1, choices=Engine.choices, null=True, blank=True)
    shadow_engine = models.CharField(max_length=1, choices=Engine.choices, null=True, blank=True)
    reason = models.TextField()
    policy_version = models.CharField(max_length=20, default="v1.0")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "execution_policies"
        constraints = [
            choices_check("execution_mode", ExecutionPolicyMode, "execution_policies"),
            choices_check("executed_engine", Engine, "execution_policies", nullable=True),
            choices_check("shadow_engine", Engine, "execution_policies", nullable=True),
        ]


class AgentDecisionAgentType(models.TextChoices):
    CORE = "core"
    SPECIALIST = "specialist"
    SUBAGENT = "subagent"


class AgentDecisionBias(models.TextChoices):
    BULLISH = "bullish"
    BEARISH = "bearish"
    NEUTRAL = "neutral"


class AgentDecision(models.Model):
    AgentType = AgentDecisionAgentType
    Bias = AgentDecisionBias

    decision_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="agent_decisions")
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="agent_decisions")
    engine = models.CharField(max_length=1, choices=Engine.choices, default=Engine.B)
    agent_name = models.CharField(max_length=50)
    agent_type = models.CharField(max_length=12, choices=AgentDecisionAgentType.choices)
    bias = models.CharField(max_length=8, choices=AgentDecisionBias.choices)
    confidence = models.IntegerField()
    reasons = models.JSONField(default=list, blank=True)
    block = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "agent_decisions"
        constraints = [
            # Re-running a signal upserts its votes instead of doubling them.
            models.UniqueConstraint(fields=["experiment", "engine", "agent_name"], name="agent_decisions_one_vote"),
            choices_check("engine", Engine, "agent_decisions"),
            choices_check("agent_type", AgentDecisionAgentType, "agent_decisions"),
            choices_check("bias", AgentDecisionBias, "agent_decisions"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0, confidence__lte=100), name="agent_decisions_confidence_range"
            ),
        ]


class DecisionRecommendationDecision(models.TextChoices):
    ENTER = "enter"
    HOLD = "hold"
    WAIT = "wait"


class DecisionRecommendation(models.Model):
    Decision = DecisionRecommendationDecision

    recommendation_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="recommendations")
    engine = models.CharField(max_length=1, choices=Engine.choices)
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="recommendations")
    symbol = models.CharField(max_length=20)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    timeframe = models.CharField(max_length=16)
    strike = PriceField(null=True, blank=True)
    expiration = models.DateField(null=True, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    entry_price = PriceField(null=True, blank=True)
    is_shadow = models.BooleanField(default=False)
    decision = models.CharField(max_length=8, choices=DecisionRecommendationDecision.choices)
    reason = models.TextField(null=True, blank=True)
    rationale = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "decision_recommendations"
        constraints = [
            models.UniqueConstraint(fields=["experiment", "engine"], name="decision_recommendations_one_per_engine"),
            choices_check("engine", Engine, "decision_recommendations"),
            choices_check("direction", Direction, "decision_recommendations"),
            choices_check("decision", DecisionRecommendationDecision, "decision_recommendations"),
        ]
