from __future__ import annotations

from django.contrib import admin

from optionsengine.lib.admin import EstimatedCountPaginator, ReadOnlyAdmin, pretty_json
from signals_app.models import Signal, WebhookEvent


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
    readonly_fields = ("payload",)

    @admin.display(description="raw payload (secret removed, trace_id added)")
    def payload(self, obj: Signal) -> str:
        return pretty_json(obj.raw_payload)
