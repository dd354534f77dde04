"""Back office for the bias tables (SPEC §13). Pipeline data is read-only; bias config is editable."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages

from bias_app.engines.config import merge_config
from bias_app.engines.staleness import with_staleness
from bias_app.models import BiasAdaptiveConfigHistory, BiasConfig, BiasStateCurrent, BiasStateHistory, BiasTradePerformance
from bias_app.selectors import get_staleness_config
from bias_app.services.config import save_bias_config
from optionsengine.lib import clock
from optionsengine.lib.admin import ReadOnlyAdmin, pretty_json


@admin.register(BiasStateCurrent)
class BiasStateCurrentAdmin(ReadOnlyAdmin):
    list_display = (
        "symbol", "bias", "score", "confidence", "regime", "macro_class", "suppressions", "stale", "age", "source",
    )
    search_fields = ("symbol",)
    list_filter = ("source",)
    fields = ("symbol", "source", "updated_at_ms", "event_id_raw", "created_at", "updated_at", "fresh_state")
    readonly_fields = fields

    def _state(self, obj: BiasStateCurrent) -> dict:
        # Memoised per object so one changelist row computes staleness once.
        if not hasattr(obj, "_fresh_state"):
            obj._fresh_state = with_staleness(obj.state_json, clock.now(), get_staleness_config()) if obj.state_json else {}
        return obj._fresh_state

    @admin.display(description="bias")
    def bias(self, obj):
        return self._state(obj).get("bias")

    @admin.display(description="score")
    def score(self, obj):
        return self._state(obj).get("biasScore")

    @admin.display(description="confidence (effective)")
    def confidence(self, obj):
        state = self._state(obj)
        return f"{state.get('confidence')} ({(state.get('effective') or {}).get('effectiveConfidence')})"

    @admin.display(description="regime")
    def regime(self, obj):
        return self._state(obj).get("regimeType")

    @admin.display(description="macro class")
    def macro_class(self, obj):
        return self._state(obj).get("macroClass")

    @admin.display(description="suppressed")
    def suppressions(self, obj):
        effective = self._state(obj).get("effective") or {}
        sides = [side for side, flag in (("long", "suppressLong"), ("short", "suppressShort")) if effective.get(flag)]
        return ", ".join(sides) or "—"

    @admin.display(description="stale", boolean=True)
    def stale(self, obj):
        return self._state(obj).get("isStale")

    @admin.display(description="age (min)")
    def age(self, obj):
        return self._state(obj).get("stalenessMinutes")

    @admin.display(description="state (staleness as of now)")
    def fresh_state(self, obj):
        return pretty_json(self._state(obj))


@admin.register(BiasStateHistory)
class BiasStateHistoryAdmin(ReadOnlyAdmin):
    list_display = ("symbol", "event_ts_ms", "event_type", "source", "status", "created_at")
    list_filter = ("status", "source", "event_type")
    search_fields = ("symbol", "event_id_raw", "event_id")
    date_hierarchy = "created_at"
    show_full_result_count = False  # append-only and large: skip the unfiltered COUNT(*)
    fields = ("symbol", "event_id_raw", "event_id", "event_ts_ms", "event_type", "source", "status", "created_at", "state")
    readonly_fields = fields

    @admin.display(description="state")
    def state(self, obj):
        return pretty_json(obj.state_json)


class BiasConfigForm(forms.ModelForm):
    class Meta:
        model = BiasConfig
        fields = ("config_json",)

    def clean_config_json(self):
        value = self.cleaned_data["config_json"]
        _, problems = merge_config(self.instance.config_key, value)
        if problems:
            raise forms.ValidationError(problems)
        return value


@admin.register(BiasConfig)
class BiasConfigAdmin(admin.ModelAdmin):
    form = BiasConfigForm
    list_display = ("config_key", "updated_at")
    readonly_fields = ("config_key", "updated_at", "effective_values")

    def has_add_permission(self, request):
        return False  # the four keys are seeded by migration

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="effective values (defaults merged under the stored row)")
    def effective_values(self, obj):
        merged, _ = merge_config(obj.config_key, obj.config_json)
        return pretty_json(merged)

    def save_model(self, request, obj, form, change):
        # The admin's change view already runs inside a transaction; the service invalidates the
        # cached config on commit so every process reads the new values within a minute.
        save_bias_config(config=obj)

    actions = ("run_adaptive_tuner_dry", "run_adaptive_tuner_apply")

    def _run_tuner(self, request, *, dry_run: bool) -> None:
        from optionsengine.pipeline.tune import run_adaptive_tuner

        run = run_adaptive_tuner(now=clock.now(), dry_run=dry_run, force=True)
        changes = "; ".join(f"{c.parameter} {c.previous} → {c.new}" for c in run.changes) or "no change"
        level = messages.SUCCESS if run.status in ("applied", "no_changes") else messages.INFO
        self.message_user(request, f"Adaptive tuner: {run.status}{' (dry run)' if run.dry_run else ''} — {changes}", level)

    @admin.action(description="Run the adaptive tuner now (dry run: record proposals only)")
    def run_adaptive_tuner_dry(self, request, queryset):
        self._run_tuner(request, dry_run=True)

    @admin.action(description="Run the adaptive tuner now and apply its changes")
    def run_adaptive_tuner_apply(self, request, queryset):
        self._run_tuner(request, dry_run=False)


@admin.register(BiasAdaptiveConfigHistory)
class BiasAdaptiveConfigHistoryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "config_key", "parameter_name", "change", "dry_run", "reason")
    list_filter = ("config_key", "parameter_name", "dry_run")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at", "config_key", "parameter_name", "change", "dry_run", "reason", "metrics",
    )
    fields = readonly_fields

    @admin.display(description="old → new")
    def change(self, obj):
        return f"{json.dumps(obj.previous_value)} → {json.dumps(obj.new_value)}"

    @admin.display(description="rolling metrics")
    def metrics(self, obj):
        return pretty_json(obj.rolling_metrics)


@admin.register(BiasTradePerformance)
class BiasTradePerformanceAdmin(ReadOnlyAdmin):
    list_display = (
        "closed_at", "symbol", "direction", "engine", "pnl_r", "pnl_percent", "realized_pnl",
        "entry_bias_score", "entry_macro_class", "entry_regime", "source",
    )
    list_filter = ("source", "engine", "direction", "entry_regime", "entry_macro_class")
    search_fields = ("symbol",)
    date_hierarchy = "created_at"
