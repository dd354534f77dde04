from django.urls import path

from bias_app.api.adaptive import AdaptiveHistoryListApi, AdaptiveStatusApi, AdaptiveToggleApi
from bias_app.api.views import AdaptiveTunerRunApi, BiasHistoryListApi, BiasStateGetApi, BiasSummaryGetApi

app_name = "bias"

urlpatterns = [
    path("state", BiasStateGetApi.as_view(), name="state-get"),
    path("history", BiasHistoryListApi.as_view(), name="history-list"),
    path("summary", BiasSummaryGetApi.as_view(), name="summary-get"),
    path("run-adaptive", AdaptiveTunerRunApi.as_view(), name="adaptive-run"),
    path("adaptive/history", AdaptiveHistoryListApi.as_view(), name="adaptive-history"),
    path("adaptive/status", AdaptiveStatusApi.as_view(), name="adaptive-status"),
    path("adaptive/toggle", AdaptiveToggleApi.as_view(), name="adaptive-toggle"),
]
