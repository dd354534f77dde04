from django.urls import path

from bias_app.api.views import BiasHistoryListApi, BiasStateGetApi, BiasSummaryGetApi

app_name = "bias"

urlpatterns = [
    path("state", BiasStateGetApi.as_view(), name="state-get"),
    path("history", BiasHistoryListApi.as_view(), name="history-list"),
    path("summary", BiasSummaryGetApi.as_view(), name="summary-get"),
]
