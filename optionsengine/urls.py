from django.contrib import admin
from django.urls import include, path, re_path

from optionsengine.cron import process_queue_view
from optionsengine.health import health
from optionsengine.lib.throttles import obtain_auth_token
from signals_app.views import mtf_bias_webhook, webhook, webhook_test

urlpatterns = [
    re_path(r"^webhook/?$", webhook, name="webhook"),
    path("webhook/test", webhook_test, name="webhook-test"),
    re_path(r"^api/webhooks/mtf-bias/?$", mtf_bias_webhook, name="mtf-bias-webhook"),
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/auth/token", obtain_auth_token, name="api-auth-token"),
    re_path(r"^api/cron/process-queue/?$", process_queue_view, name="cron-process-queue"),
    path("api/bias/", include("bias_app.api.urls")),
    path("api/", include("optionsengine.api.urls")),  # signals, orders, trades, positions, monitoring, trace, schema
    path("ops/", include("optionsengine.ops.urls")),  # operator pages: monitor, trace
    path("", include("optionsengine.observability.urls")),  # /ops/pnl, /api/stream, /metrics
]
