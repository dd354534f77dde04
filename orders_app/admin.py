"""Back office for orders, trades and risk limits (SPEC §13).

Orders and trades are pipeline state: read-only, with one operator action ("cancel order") that
calls the `cancel_order` service. Risk limits are operator configuration: editable, and the newest
enabled row applies.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from optionsengine.lib import clock
from optionsengine.lib.admin import EstimatedCountPaginator, ReadOnlyAdmin, pretty_json
from optionsengine.lib.transactions import entry_point_transaction
from orders_app.models import Order, RiskLimit, Trade
from orders_app.services.cancel import cancel_order


def _link(viewname: str, pk) -> str:
    if pk is None:
        return "—"
    try:
        url = reverse(viewname, args=[pk])
    except NoReverseMatch:  # that model has no admin page
        return str(pk)
    return format_html('<a href="{}">{}</a>', url, pk)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at", "side", "option_symbol", "quantity", "status", "failure_reason", "exit_reason", "attempts",
        "engine", "is_test", "signal_link", "position_link",
    )
    list_filter = ("status", "side", "engine", "is_test", "created_at")  # symbol: use search
    search_fields = ("=order_id", "=signal__signal_id", "=position__position_id", "symbol", "option_symbol", "occ_symbol")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ("cancel_orders",)
    fields = (
        "order_id", "side", "status", "failure_reason", "attempts", "signal_link", "position_link", "trade_link",
        "symbol", "option_symbol", "occ_symbol", "type", "strike", "expiration", "quantity", "order_type",
        "engine", "experiment_id", "exit_reason", "exit_codes", "is_test", "created_at", "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="signal")
    def signal_link(self, obj: Order):
        return _link("admin:signals_app_signal_change", obj.signal_id)

    @admin.display(description="position")
    def position_link(self, obj: Order):
        return _link("admin:positions_app_position_change", obj.position_id)

    @admin.display(description="trade")
    def trade_link(self, obj: Order):
        trade_id = Trade.objects.filter(order_id=obj.order_id).values_list("trade_id", flat=True).first()
        return _link("admin:orders_app_trade_change", trade_id)

    @admin.display(description="exit reason codes")
    def exit_codes(self, obj: Order):
        return pretty_json(obj.exit_reason_codes)

    @admin.action(description="Cancel selected pending orders")
    def cancel_orders(self, request, queryset):
        now = clock.now()
        cancelled = skipped = 0
        for order_id in queryset.values_list("order_id", flat=True):
            with entry_point_transaction():
                if cancel_order(order_id=order_id, now=now):
                    cancelled += 1
                else:
                    skipped += 1
        self.message_user(request, f"Cancelled {cancelled} order(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} order(s) were not pending (already filled, expired or cancelled).", messages.WARNING)

    def has_cancel_permission(self, request):
        return request.user.has_perm("orders_app.change_order")

    cancel_orders.allowed_permissions = ("cancel",)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = (
        "fill_timestamp", "side", "option_symbol", "fill_quantity", "fill_price", "bid", "ask", "realized_pnl",
        "engine", "is_test", "order_link", "position_link",
    )
    list_filter = ("order__side", "engine", "is_test", "fill_timestamp")
    search_fields = ("=trade_id", "=order__order_id", "order__symbol", "order__option_symbol")
    date_hierarchy = "fill_timestamp"
    list_select_related = ("order", "order__opened_position")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = (
        "trade_id", "order_link", "position_link", "side", "option_symbol", "fill_price", "fill_quantity",
        "fill_timestamp", "bid", "ask", "commission", "realized_pnl", "engine", "experiment_id", "is_test", "created_at",
    )
    readonly_fields = fields

    @admin.display(description="side", ordering="order__side")
    def side(self, obj: Trade):
        return obj.order.side

    @admin.display(description="option symbol", ordering="order__option_symbol")
    def option_symbol(self, obj: Trade):
        return obj.order.option_symbol

    @admin.display(description="order")
    def order_link(self, obj: Trade):
        return _link("admin:orders_app_order_change", obj.order_id)

    @admin.display(description="position")
    def position_link(self, obj: Trade):
        order = obj.order
        position_id = order.position_id
        if position_id is None:  # an entry fill: the position it opened
            try:
                position_id = order.opened_position.position_id
            except ObjectDoesNotExist:
                position_id = None
        return _link("admin:positions_app_position_change", position_id)


@admin.register(RiskLimit)
class RiskLimitAdmin(admin.ModelAdmin):
    """Editable: the newest enabled row is the one every stage applies."""

    list_display = (
        "created_at", "enabled", "max_position_size", "max_positions_per_symbol", "max_open_positions",
        "max_daily_loss", "max_exposure_percent", "max_daily_trades",
    )
    list_filter = ("enabled",)
    readonly_fields = ("limit_id", "created_at")
    fields = (
        "limit_id", "enabled", "max_position_size", "max_positions_per_symbol", "max_open_positions",
        "max_daily_loss", "max_exposure_percent", "max_daily_trades", "created_at",
    )

    def save_model(self, request, obj: RiskLimit, form, change):
        if obj.created_at is None:
            obj.created_at = clock.now()
        super().save_model(request, obj, form, change)
