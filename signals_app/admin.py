"""Back office for ingestion and decisions (SPEC §13): every table here is written by the pipeline
and read-only in the admin. The signal page gathers its whole decision trail — outcome, gates,
both engines side by side, agent votes, sizing and policy — from the rows the orchestrator wrote
(`refactored_signals.risk_check_result`, experiments, recommendations, agent decisions).

All HTML is built with format_html / format_html_join so every stored value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from optionsengine.lib.admin import EstimatedCountPaginator, ReadOnlyAdmin, pretty_json
from signals_app.models import AgentDecision, DecisionRecommendation, Experiment, Signal, WebhookEvent

EMPTY = "—"
_TABLE = '<table style="margin: 4px 0 12px">{}{}</table>'
_BLOCKED = "color: #ba2121; font-weight: bold"
_PASSED = "color: #447e36"


def _related(obj, name: str):
    """A reverse one-to-one that may not exist yet (a pending signal has no experiment)."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def _text(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _table(headers: Iterable[str], rows: Iterable[Iterable]) -> str:
    """A small HTML table; cells are escaped unless already safe (nested format_html output)."""
    head = format_html("<thead><tr>{}</tr></thead>", format_html_join("", "<th>{}</th>", ((h,) for h in headers)))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    )
    return format_html(_TABLE, head, format_html("<tbody>{}</tbody>", body))


def _section(title: str, content) -> str:
    return format_html('<h3 style="margin: 12px 0 4px">{}</h3>{}', title, content)


def _signal_link(signal_id, label: str | None = None) -> str:
    if signal_id is None:
        return EMPTY
    url = reverse("admin:signals_app_signal_change", args=[signal_id])
    return format_html('<a href="{}">{}</a>', url, label or str(signal_id)[:8])


def _experiment_link(experiment: Experiment | None) -> str:
    if experiment is None:
        return EMPTY
    url = reverse("admin:signals_app_experiment_change", args=[experiment.pk])
    return format_html('<a href="{}">experiment {} (variant {})</a>', url, str(experiment.pk)[:8], experiment.variant)


# ---- decision trail fragments (shared by the signal and experiment pages) ----


def engines_side_by_side(recommendations: Iterable[DecisionRecommendation], verdicts: Iterable[Mapping] = ()) -> str:
    """One column per engine. Falls back to the verdicts in the trail when no rows were stored."""
    by_engine = {r.engine: r for r in recommendations}
    if not by_engine:
        verdicts = list(verdicts)
        if not verdicts:
            return format_html("<p>{}</p>", "No engine ran for this signal.")
        return _table(["engine", "decision", "reason", "quantity"],
                      ([v.get("engine"), v.get("decision"), _text(v.get("reason")), _text(v.get("quantity"))]
                       for v in verdicts))
    engines = sorted(by_engine)
    rows = (
        ("decision", lambda r: r.decision),
        ("reason", lambda r: r.reason),
        ("strike", lambda r: r.strike),
        ("expiration", lambda r: r.expiration),
        ("quantity", lambda r: r.quantity),
        ("entry price", lambda r: r.entry_price),
        ("role", lambda r: "shadow" if r.is_shadow else "executed"),
    )
    headers = ["", *(f"Engine {engine}" for engine in engines)]
    return _table(headers, ([format_html("<b>{}</b>", label), *(_text(get(by_engine[e])) for e in engines)]
                            for label, get in rows))


def agent_votes(votes: Iterable[AgentDecision]) -> str:
    by_engine: dict[str, list[AgentDecision]] = {}
    for vote in votes:
        by_engine.setdefault(vote.engine, []).append(vote)
    if not by_engine:
        return format_html("<p>{}</p>", "No agent votes recorded.")
    return format_html_join("", "{}", (
        (_section(f"Engine {engine} votes ({len(engine_votes)})", _table(
            ["agent", "type", "bias", "confidence", "block", "reasons"],
            ([v.agent_name, v.agent_type, v.bias, v.confidence,
              format_html('<span style="{}">{}</span>', _BLOCKED, "BLOCK") if v.block else "no", _text(v.reasons)]
             for v in sorted(engine_votes, key=lambda v: (v.agent_type, v.agent_name))),
        )),)
        for engine, engine_votes in sorted(by_engine.items())
    ))


def _gates(gates: list | None) -> str:
    if gates is None:
        return format_html("<p>{}</p>", "No gate ran: the signal was settled before the gates (lifecycle outcome).")
    return _table(["gate", "verdict", "reason", "detail", "notes"], (
        [g.get("name"), format_html('<span style="{}">{}</span>', _PASSED if g.get("passed") else _BLOCKED,
                                    "passed" if g.get("passed") else "BLOCKED"),
         _text(g.get("reason")), _text(g.get("detail")), _text(g.get("notes"))]
        for g in gates
    ))


def _sizing(sizing: Mapping | None) -> str:
    if not sizing:
        return format_html("<p>{}</p>", "Not sized.")
    steps = sizing.get("steps") or []
    table = _table(["step", "multiplier", "quantity"],
                   ([s.get("step"), _text(s.get("multiplier")), _text(s.get("quantity"))] for s in steps))
    return format_html("{}{}", table if steps else "", _key_values({k: v for k, v in sizing.items() if k != "steps"}))


def _policy(experiment: Experiment | None, trail_policy: Mapping | None) -> str:
    policy = _related(experiment, "execution_policy") if experiment is not None else None
    if policy is not None:
        values = {"mode": policy.execution_mode, "executed_engine": policy.executed_engine,
                  "shadow_engine": policy.shadow_engine, "reason": policy.reason}
    elif trail_policy:
        values = trail_policy
    else:
        return format_html("<p>{}</p>", "No execution policy (no experiment).")
    return _key_values(values)


def _key_values(values: Mapping | None) -> str:
    if not values:
        return format_html("<p>{}</p>", EMPTY)
    items = format_html_join("", "<li>{}: {}</li>", ((k, _text(v)) for k, v in values.items()))
    return format_html("<ul>{}</ul>", items)


def decision_trail(signal: Signal) -> str:
    """Everything that decided `signal`, in the order the orchestrator applied it."""
    refactored = _related(signal, "refactored")
    experiment = _related(signal, "experiment")
    trail = (refactored.risk_check_result if refactored is not None else None) or {}
    outcome = format_html(
        "<ul><li>status: <b>{}</b></li><li>reason code: <b>{}</b></li><li>outcome: {}</li><li>detail: {}</li>"
        "<li>decided at: {}</li><li>experiment: {}</li></ul>",
        signal.status, _text(signal.rejection_reason), _text(trail.get("outcome")), _text(trail.get("detail")),
        _text(refactored.processed_at if refactored is not None else None), _experiment_link(experiment),
    )
    if refactored is None:
        waiting = {"queue_reason": signal.queue_reason, "queued_until": signal.queued_until,
                   "next_retry_at": signal.next_retry_at, "processing_attempts": signal.processing_attempts}
        return format_html("{}{}", _section("Outcome", outcome),
                           _section("Not decided yet", _key_values(waiting)))
    parts = [
        _section("Outcome", outcome),
        _section("Gates", _gates(trail.get("gates"))),
        _section("Engines (A and B side by side)",
                 engines_side_by_side(signal.recommendations.all(), trail.get("engines") or ())),
        agent_votes(signal.agent_decisions.all()),
        _section("Sizing", _sizing(trail.get("sizing"))),
        _section("Execution policy", _policy(experiment, trail.get("policy"))),
    ]
    if "portfolio" in trail or "biasState" in trail:
        parts += [_section("Portfolio at decision", _key_values(trail.get("portfolio"))),
                  _section("Bias state at decision", _key_values(trail.get("biasState")))]
    return format_html_join("", "{}", ((part,) for part in parts))


# ---- ingestion ----


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "status", "symbol", "direction", "timeframe", "error_message", "is_test", "processing_time_ms")
    list_filter = ("status", "kind", "is_test", "created_at")  # symbol: use search (no index to scan)
    search_fields = ("=event_id", "=request_id", "symbol", "test_session_id")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    exclude = ("raw_payload",)
    readonly_fields = ("payload",)

    @admin.display(description="raw payload (secret redacted)")
    def payload(self, obj: WebhookEvent) -> str:
        return pretty_json(obj.raw_payload)


@admin.register(Signal)
class SignalAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "symbol", "direction", "timeframe", "status", "rejection_reason", "processed", "is_test")
    list_filter = ("status", "direction", "is_test", "processed", "created_at", "symbol")
    search_fields = ("=signal_id", "symbol", "rejection_reason", "test_session_id", "signal_hash")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    exclude = ("raw_payload", "meta_gamma")
    fieldsets = (
        (None, {"fields": ("signal_id", "symbol", "direction", "timeframe", "timestamp", "created_at", "status",
                           "rejection_reason", "is_test", "test_session_id", "test_scenario", "signal_hash")}),
        ("Decision trail", {"fields": ("trail",)}),
        ("Processing", {"classes": ("collapse",), "fields": (
            "processed", "processing_lock", "locked_by", "locked_at", "processing_attempts", "wait_attempts",
            "next_retry_at", "queued_until", "queued_at", "queue_reason", "experiment_id")}),
        ("Payload and enrichment", {"classes": ("collapse",), "fields": ("payload", "enrichment")}),
    )
    readonly_fields = ("signal_id", "created_at", "trail", "payload", "enrichment")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:  # a fixed handful of queries for the whole trail, whatever its size
            prefetch_related_objects([obj], "refactored", "experiment__execution_policy", "recommendations",
                                     "agent_decisions")
        return obj

    @admin.display(description="decision trail")
    def trail(self, obj: Signal) -> str:
        trace = format_html('<p><a href="{}">Full trace: webhook → decision → order → fills → exits → realized P&amp;L</a></p>',
                            reverse("ops-trace", args=[obj.pk]))
        return format_html("{}{}", trace, decision_trail(obj))

    @admin.display(description="raw payload (secret removed, trace_id added)")
    def payload(self, obj: Signal) -> str:
        return pretty_json(obj.raw_payload)

    @admin.display(description="enriched data (market, confluence) at decision")
    def enrichment(self, obj: Signal) -> str:
        refactored = _related(obj, "refactored")
        return pretty_json(refactored.enriched_data if refactored is not None else None)


# ---- decisions ----


@admin.register(Experiment)
class ExperimentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "signal_link", "variant", "split_percentage", "execution_mode", "executed_engine",
                    "short_hash", "policy_version")
    list_filter = ("variant", "execution_policy__execution_mode", "execution_policy__executed_engine", "created_at")
    search_fields = ("=signal__signal_id", "=experiment_id", "signal__symbol")
    list_select_related = ("signal", "execution_policy")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = ("experiment_id", "signal_link", "variant", "split_percentage", "assignment_hash", "policy_version",
              "created_at", "policy", "engines", "votes")
    readonly_fields = fields

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            prefetch_related_objects([obj], "signal", "execution_policy", "recommendations", "agent_decisions")
        return obj

    @admin.display(description="signal", ordering="signal__symbol")
    def signal_link(self, obj: Experiment) -> str:
        return _signal_link(obj.signal_id, str(obj.signal))

    @admin.display(description="policy mode", ordering="execution_policy__execution_mode")
    def execution_mode(self, obj: Experiment) -> str:
        policy = _related(obj, "execution_policy")
        return policy.execution_mode if policy is not None else EMPTY

    @admin.display(description="executed engine", ordering="execution_policy__executed_engine")
    def executed_engine(self, obj: Experiment) -> str:
        policy = _related(obj, "execution_policy")
        return _text(policy.executed_engine if policy is not None else None)

    @admin.display(description="assignment hash")
    def short_hash(self, obj: Experiment) -> str:
        return obj.assignment_hash[:16]

    @admin.display(description="execution policy")
    def policy(self, obj: Experiment) -> str:
        return _policy(obj, None)

    @admin.display(description="engines A and B side by side")
    def engines(self, obj: Experiment) -> str:
        return engines_side_by_side(obj.recommendations.all())

    @admin.display(description="agent votes")
    def votes(self, obj: Experiment) -> str:
        return agent_votes(obj.agent_decisions.all())


@admin.register(DecisionRecommendation)
class DecisionRecommendationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "signal_link", "symbol", "direction", "timeframe", "engine", "decision", "reason",
                    "is_shadow", "strike", "expiration", "quantity", "entry_price")
    list_filter = ("engine", "decision", "is_shadow", "symbol", "created_at")
    search_fields = ("=signal__signal_id", "=experiment__experiment_id")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = ("recommendation_id", "signal_link", "experiment_link", "engine", "is_shadow", "decision", "reason",
              "symbol", "direction", "timeframe", "strike", "expiration", "quantity", "entry_price", "created_at",
              "rationale_json")
    readonly_fields = fields

    @admin.display(description="signal")
    def signal_link(self, obj: DecisionRecommendation) -> str:
        return _signal_link(obj.signal_id)

    @admin.display(description="experiment")
    def experiment_link(self, obj: DecisionRecommendation) -> str:
        return _experiment_link(obj.experiment)

    @admin.display(description="rationale")
    def rationale_json(self, obj: DecisionRecommendation) -> str:
        return pretty_json(obj.rationale)


@admin.register(AgentDecision)
class AgentDecisionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "signal_link", "engine", "agent_name", "agent_type", "bias", "confidence", "block",
                    "reasons_text")
    list_filter = ("engine", "agent_name", "bias", "block", "agent_type", "created_at")
    search_fields = ("=signal__signal_id", "=experiment__experiment_id")
    list_select_related = ("signal",)
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = ("decision_id", "signal_link", "experiment_link", "engine", "agent_name", "agent_type", "bias",
              "confidence", "block", "reasons_text", "created_at", "metadata_json")
    readonly_fields = fields

    @admin.display(description="signal", ordering="signal__symbol")
    def signal_link(self, obj: AgentDecision) -> str:
        return _signal_link(obj.signal_id, str(obj.signal))

    @admin.display(description="experiment")
    def experiment_link(self, obj: AgentDecision) -> str:
        return _experiment_link(obj.experiment)

    @admin.display(description="reasons")
    def reasons_text(self, obj: AgentDecision) -> str:
        return _text(obj.reasons)

    @admin.display(description="metadata")
    def metadata_json(self, obj: AgentDecision) -> str:
        return pretty_json(obj.metadata)
