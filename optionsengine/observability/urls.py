"""Routes of the P&L page, the realtime stream and the metrics endpoint (one include in the root urls)."""

from django.urls import path

from optionsengine.observability.metrics import metrics_view
from optionsengine.observability.stream import stream
from positions_app.pages import pnl_page

urlpatterns = [
    path("ops/pnl", pnl_page, name="ops-pnl"),
    path("api/stream", stream, name="api-stream"),
    path("metrics", metrics_view, name="metrics"),
]
