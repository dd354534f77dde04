"""Output serializers of the operator API (SPEC §13). Decimals leave as strings
(`COERCE_DECIMAL_TO_STRING`), timestamps as ISO-8601, ids as UUID strings.

Named at module level (not inner `OutputSerializer` classes) so the OpenAPI components get distinct
names; the trace reuses the list serializers for its rows.
"""

from __future__ import annotations

from rest_framework import serializers

from orders_app.models import Order, Trade
from positions_app.models import Position
from signals_app.models import (
    AgentDecision,
    DecisionRecommendation,
    ExecutionPolicy,
    Experiment,
    MarketContext,
    Signal,
    WebhookEvent,
)


class WebhookEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEvent
        fields = ("event_id", "request_id", "kind", "status", "error_message", "symbol", "direction", "timeframe",
                  "signal_id", "processing_time_ms", "is_test", "test_session_id", "test_scenario", "created_at")


class WebhookEventDetailOutputSerializer(WebhookEventOutputSerializer):
    class Meta(WebhookEventOutputSerializer.Meta):
        fields = (*WebhookEventOutputSerializer.Meta.fields, "raw_payload")


SIGNAL_FIELDS = ("signal_id", "symbol", "direction", "timeframe", "timestamp", "status", "rejection_reason", "is_test",
                 "test_session_id", "test_scenario", "processed", "processing_attempts", "wait_attempts",
                 "next_retry_at", "queued_until", "queued_at", "queue_reason", "experiment_id", "created_at")


class SignalOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signal
        fields = SIGNAL_FIELDS


class SignalLifecycleOutputSerializer(serializers.ModelSerializer):
    """Every column of the signal, lease and payload included."""

    class Meta:
        model = Signal
        fields = (*SIGNAL_FIELDS, "signal_hash", "processing_lock", "locked_by", "locked_at", "raw_payload",
                  "meta_gamma")


class DecisionOutputSerializer(serializers.Serializer):
    """`refactored_signals` of one signal: the decision trail JSON as the orchestrator wrote it."""

    decided_at = serializers.DateTimeField(source="processed_at")
    rejection_reason = serializers.CharField(allow_null=True)
    trail = serializers.JSONField(source="risk_check_result", allow_null=True,
                                  help_text="outcome, reason, detail, gates, engines, sizing, policy, portfolio, "
                                            "biasState (docs/orchestrator.md)")
    enriched_data = serializers.JSONField(allow_null=True)


class SignalDetailOutputSerializer(SignalLifecycleOutputSerializer):
    decision = DecisionOutputSerializer(source="refactored", allow_null=True, read_only=True)
    trace_url = serializers.SerializerMethodField()

    class Meta(SignalLifecycleOutputSerializer.Meta):
        fields = (*SignalLifecycleOutputSerializer.Meta.fields, "decision", "trace_url")

    def get_trace_url(self, obj: Signal) -> str:
        return f"/api/trace/{obj.signal_id}"


ORDER_FIELDS = ("order_id", "signal_id", "position_id", "side", "symbol", "option_symbol", "occ_symbol", "strike",
                "expiration", "type", "quantity", "engine", "experiment_id", "order_type", "status", "failure_reason",
                "exit_reason", "exit_reason_codes", "attempts", "is_test", "created_at", "updated_at")


class OrderOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ORDER_FIELDS


class TradeOutputSerializer(serializers.ModelSerializer):
    side = serializers.CharField(source="order.side", read_only=True)
    symbol = serializers.CharField(source="order.symbol", read_only=True)
    option_symbol = serializers.CharField(source="order.option_symbol", read_only=True)
    signal_id = serializers.UUIDField(source="order.signal_id", read_only=True, allow_null=True)
    position_id = serializers.UUIDField(source="order.position_id", read_only=True, allow_null=True)

    class Meta:
        model = Trade
        fields = ("trade_id", "order_id", "side", "symbol", "option_symbol", "signal_id", "position_id", "fill_price",
                  "fill_quantity", "fill_timestamp", "commission", "bid", "ask", "realized_pnl", "engine",
                  "experiment_id", "is_test", "created_at")


class PositionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Position
        fields = ("position_id", "entry_order_id", "symbol", "option_symbol", "occ_symbol", "strike", "expiration",
                  "type", "quantity", "initial_quantity", "entry_price", "current_price", "underlying_entry_price",
                  "unrealized_pnl", "realized_pnl", "position_pnl_percent", "high_water_mark", "trailing_stop_price",
                  "status", "exit_reason", "exit_reason_codes", "exit_price", "exit_timestamp", "entry_timestamp",
                  "last_updated", "partials_taken", "engine", "experiment_id", "entry_bias_score",
                  "entry_regime_type", "entry_mode_hint", "entry_macro_class",
                  "entry_acceleration_state_strength_delta", "greeks_at_entry", "iv_at_entry", "setup_type", "is_test",
                  "created_at")


class MarketContextOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MarketContext
        fields = ("timestamp", "symbol", "current_price", "bid", "ask", "volume", "indicators", "context_hash")


class ExperimentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Experiment
        fields = ("experiment_id", "variant", "assignment_hash", "split_percentage", "policy_version", "created_at")


class ExecutionPolicyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExecutionPolicy
        fields = ("execution_mode", "executed_engine", "shadow_engine", "reason", "policy_version")


class RecommendationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionRecommendation
        fields = ("engine", "is_shadow", "decision", "reason", "strike", "expiration", "quantity", "entry_price",
                  "rationale")


class AgentVoteOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentDecision
        fields = ("engine", "agent_name", "agent_type", "bias", "confidence", "block", "reasons", "metadata")


class PerformanceOutputSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    direction = serializers.CharField()
    engine = serializers.CharField(allow_null=True)
    realized_pnl = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    pnl_percent = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    pnl_r = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    duration_minutes = serializers.IntegerField(allow_null=True)
    entry_bias_score = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    entry_macro_class = serializers.CharField(allow_null=True)
    entry_regime = serializers.CharField(allow_null=True)
    entry_intent = serializers.CharField(allow_null=True)
    entry_acceleration = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    exit_reason_codes = serializers.JSONField()
    source = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)


class TraceStepOutputSerializer(serializers.Serializer):
    stage = serializers.CharField()
    state = serializers.ChoiceField(choices=["done", "stopped", "waiting", "not_reached"])
    at = serializers.DateTimeField(allow_null=True)
    summary = serializers.CharField(allow_blank=True)


class ExitLegOutputSerializer(serializers.Serializer):
    order = OrderOutputSerializer()
    fill = TradeOutputSerializer(source="trade", allow_null=True)


class SignalTraceOutputSerializer(serializers.Serializer):
    """`optionsengine.pipeline.trace.SignalTrace`: the verdict, then every row in pipeline order."""

    signal_id = serializers.UUIDField(source="signal.signal_id")
    stage = serializers.ChoiceField(choices=["webhook", "orchestrator", "order_creator", "executor", "position",
                                             "exit", "closed"], help_text="where the signal is or stopped")
    state = serializers.ChoiceField(choices=["rejected", "failed", "waiting", "open", "closing", "closed"])
    final = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    summary = serializers.CharField(help_text="e.g. `rejected by the orchestrator: <code> — <detail>`, "
                                              "`order pending execution`, `closed: +123.45`")
    realized_pnl = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    steps = TraceStepOutputSerializer(many=True)
    webhook_events = WebhookEventDetailOutputSerializer(many=True)
    signal = SignalLifecycleOutputSerializer()
    decision = DecisionOutputSerializer(source="refactored", allow_null=True)
    market_context = MarketContextOutputSerializer(allow_null=True)
    experiment = ExperimentOutputSerializer(allow_null=True)
    policy = ExecutionPolicyOutputSerializer(allow_null=True)
    recommendations = RecommendationOutputSerializer(many=True)
    agent_votes = AgentVoteOutputSerializer(many=True)
    entry_order = OrderOutputSerializer(allow_null=True)
    entry_fill = TradeOutputSerializer(source="entry_trade", allow_null=True)
    position = PositionOutputSerializer(allow_null=True)
    exits = ExitLegOutputSerializer(many=True)
    performance = PerformanceOutputSerializer(allow_null=True)


# ---- monitoring ----


class WebhookStatusCountsSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    out_of_order = serializers.IntegerField()
    invalid_signature = serializers.IntegerField()
    invalid_payload = serializers.IntegerField()
    error = serializers.IntegerField()


class FunnelOutputSerializer(serializers.Serializer):
    webhooks = serializers.IntegerField(help_text="/webhook signal deliveries in the window, any outcome")
    webhooks_by_status = WebhookStatusCountsSerializer()
    signals = serializers.IntegerField(help_text="signals created in the window (the cohort below)")
    pending = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    orders = serializers.IntegerField(help_text="cohort signals with an entry order")
    orders_failed = serializers.IntegerField()
    fills = serializers.IntegerField(help_text="cohort entry orders filled")
    open = serializers.IntegerField(help_text="cohort positions open or closing")
    closed = serializers.IntegerField(help_text="cohort positions closed")
    realized_pnl = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class RejectionCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()
    last_at = serializers.DateTimeField()


class StageBacklogSerializer(serializers.Serializer):
    stage = serializers.CharField()
    description = serializers.CharField()
    pending = serializers.IntegerField()
    oldest_id = serializers.CharField(allow_null=True)
    oldest_since = serializers.DateTimeField(allow_null=True)
    age_seconds = serializers.IntegerField(allow_null=True)
    expected_seconds = serializers.IntegerField()
    stuck = serializers.BooleanField()


class LastActivitySerializer(serializers.Serializer):
    webhook = serializers.DateTimeField(allow_null=True)
    signal = serializers.DateTimeField(allow_null=True)
    decision = serializers.DateTimeField(allow_null=True)
    entry_order = serializers.DateTimeField(allow_null=True)
    fill = serializers.DateTimeField(allow_null=True)
    position_mark = serializers.DateTimeField(allow_null=True)
    exit_order = serializers.DateTimeField(allow_null=True)
    close = serializers.DateTimeField(allow_null=True)


class MarketClockSerializer(serializers.Serializer):
    session = serializers.CharField()
    is_open = serializers.BooleanField()
    next_open = serializers.DateTimeField()


class MonitoringStatusOutputSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    window_hours = serializers.IntegerField()
    since = serializers.DateTimeField()
    traffic = serializers.CharField()
    market = MarketClockSerializer()
    funnel = FunnelOutputSerializer()
    rejections_by_reason = RejectionCountSerializer(many=True)
    stages = StageBacklogSerializer(many=True)
    stuck_stage = serializers.CharField(allow_null=True, help_text="first stage whose oldest item is overdue")
    last_activity = LastActivitySerializer()
    providers = serializers.JSONField(help_text="optionsengine.marketdata.health_status(): breaker per provider")
