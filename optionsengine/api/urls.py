"""/api/… routes of the operator API, the OpenAPI schema and its docs page (served offline from
drf-spectacular-sidecar)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from optionsengine.api import views

urlpatterns = [
    path("signals", views.SignalListApi.as_view(), name="api-signal-list"),
    path("signals/<str:signal_id>", views.SignalDetailApi.as_view(), name="api-signal-detail"),
    path("orders", views.OrderListApi.as_view(), name="api-order-list"),
    path("trades", views.TradeListApi.as_view(), name="api-trade-list"),
    path("positions", views.PositionListApi.as_view(), name="api-position-list"),
    path("monitoring/status", views.MonitoringStatusApi.as_view(), name="api-monitoring-status"),
    path("trace/<str:signal_id>", views.SignalTraceApi.as_view(), name="api-trace"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
