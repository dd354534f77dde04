"""Back office for positions, exit rules and the drawdown breaker (SPEC §13).

Positions and the breaker are pipeline state: read-only, changed only through actions that call
services ("close position" creates a forced `manual_close` exit order). Exit rules are operator
configuration: editable, the newest enabled row applies.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from optionsengine.lib import clock
from optionsengine.lib.admin import ReadOnlyAdmin, pretty_json
from optionsengine.lib.transactions import entry_point_transaction
from positions_app.models import CircuitBreakerState, ExitRule, Position


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = (
        "option_symbol", "status", "quantity", "initial_quantity", "entry_price", "current_price",
        "unrealized_pnl", "realized_pnl", "position_pnl_percent", "trailing_stop_price", "exit_reason",
        "setup_type", "engine", "is_test", "entry_timestamp",
    )
    list_filter = ("status", "symbol", "engine", "setup_type", "is_test", "exit_reason")
    search_fields = ("position_id", "symbol", "option_symbol", "occ_symbol", "exit_reason")
    date_hierarchy = "entry_timestamp"
    list_select_related = ("entry_order",)
    actions = ("close_positions",)
    fieldsets = (
        (None, {"fields": ("position_id", "status", "signal_link", "entry_order_link", "is_test")}),
        ("Contract", {"fields": ("symbol", "option_symbol", "occ_symbol", "type", "strike", "expiration", "setup_type")}),
        ("Size and P&L", {"fields": (
            "quantity", "initial_quantity", "entry_price", "current_price", "underlying_entry_price",
            "unrealized_pnl", "realized_pnl", "position_pnl_percent", "high_water_mark", "trailing_stop_price",
        )}),
        ("Exit", {"fields": ("exit_reason", "exit_codes", "partials", "exit_price", "exit_timestamp", "exit_orders")}),
        ("Entry context", {"fields": (
            "engine", "experiment_id", "entry_bias_score", "entry_regime_type", "entry_mode_hint", "entry_macro_class",
            "entry_acceleration_state_strength_delta", "greeks", "iv_at_entry",
        )}),
        ("Times", {"fields": ("entry_timestamp", "last_updated", "created_at")}),
    )
    readonly_fields = tuple(f for _, options in fieldsets for f in options["fields"])

    @admin.display(description="signal")
    def signal_link(self, obj: Position):
        signal_id = obj.entry_order.signal_id if obj.entry_order_id else None
        if signal_id is None:
            return "—"
        url = reverse("admin:signals_app_signal_change", args=[signal_id])
        return format_html('<a href="{}">{}</a>', url, signal_id)

    @admin.display(description="entry order")
    def entry_order_link(self, obj: Position):
        if not obj.entry_order_id:
            return "—"
        try:
            url = reverse("admin:orders_app_order_change", args=[obj.entry_order_id])
        except Exception:  # the orders admin may not be registered
            return str(obj.entry_order_id)
        return format_html('<a href="{}">{}</a>', url, obj.entry_order_id)

    @admin.display(description="exit reason codes")
    def exit_codes(self, obj: Position):
        return ", ".join(obj.exit_reason_codes or []) or "—"

    @admin.display(description="partials taken")
    def partials(self, obj: Position):
        return ", ".join(obj.partials_taken or []) or "—"

    @admin.display(description="greeks at entry")
    def greeks(self, obj: Position):
        return pretty_json(obj.greeks_at_entry)

    @admin.display(description="exit orders")
    def exit_orders(self, obj: Position):
        rows = obj.exit_orders.order_by("created_at").values_list("quantity", "status", "exit_reason", "created_at")
        lines = [f"{created:%Y-%m-%d %H:%M:%S} {qty}× {reason} ({status})" for qty, status, reason, created in rows]
        return "; ".join(lines) or "—"

    @admin.action(description="Close selected positions (forced exit order, reason manual_close)", permissions=["change"])
    def close_positions(self, request, queryset):
        from optionsengine.pipeline.exit_orders import request_close

        created, skipped = 0, 0
        for position_id in queryset.values_list("pk", flat=True):
            with entry_point_transaction():
                order, outcome = request_close(position_id=position_id, now=clock.now())
            if order is None:
                skipped += 1
            else:
                created += 1
        self.message_user(request, f"{created} exit order(s) created", messages.SUCCESS if created else messages.INFO)
        if skipped:
            self.message_user(request, f"{skipped} position(s) skipped: not open (already closing or closed)", messages.WARNING)

    def has_change_permission(self, request, obj=None):
        # The "close position" action needs the change permission; a position page itself is
        # never editable (a save would race the executor's writes).
        return obj is None and request.user.has_perm("positions_app.change_position")


@admin.register(ExitRule)
class ExitRuleAdmin(admin.ModelAdmin):
    list_display = (
        "rule_name", "enabled", "profit_target_percent", "stop_loss_percent", "max_hold_time_hours", "min_dte_exit",
        "trailing_stop_percent", "trailing_stop_activation_percent", "created_at",
    )
    list_filter = ("enabled",)
    fields = (
        "rule_name", "enabled", "profit_target_percent", "stop_loss_percent", "max_hold_time_hours", "min_dte_exit",
        "trailing_stop_percent", "trailing_stop_activation_percent", "created_at",
    )
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):
        if obj.created_at is None:
            obj.created_at = clock.now()
        super().save_model(request, obj, form, change)


@admin.register(CircuitBreakerState)
class CircuitBreakerStateAdmin(ReadOnlyAdmin):
    list_display = ("id", "freeze_until", "triggered_at", "drawdown_pct", "updated_at")
