"""Adaptive tuner API (SPEC §11, §13): history, status and the on/off toggle. Token auth (settings);
the run endpoint (`POST /api/bias/run-adaptive`) lives in `bias_app.api.views`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bias_app.adaptive_selectors import get_adaptive_status, list_adaptive_history
from bias_app.models import BiasAdaptiveConfigHistory
from bias_app.services.adaptive import set_adaptive_enabled
from optionsengine.lib import clock
from optionsengine.lib.pagination import ApiPagination, paginated_response
from optionsengine.lib.transactions import entry_point_transaction


def _bad_request(errors: dict) -> Response:
    details = [{"field": name, "message": str(message)} for name, messages in errors.items() for message in messages]
    return Response({"error": "Invalid query", "details": details}, status=400)


class AdaptiveHistoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = BiasAdaptiveConfigHistory
        fields = ("id", "config_key", "parameter_name", "previous_value", "new_value", "reason", "rolling_metrics",
                  "dry_run", "created_at")


class AdaptiveStatusOutputSerializer(serializers.Serializer):
    adaptiveEnabled = serializers.BooleanField()  # noqa: N815 - JSON contract (camelCase like the run endpoint)
    e2eTestMode = serializers.BooleanField()  # noqa: N815
    lastAdaptiveUpdate = serializers.CharField(allow_null=True)  # noqa: N815
    lastRunDate = serializers.CharField(allow_null=True)  # noqa: N815
    lastDryRunDate = serializers.CharField(allow_null=True)  # noqa: N815
    lastRunSummary = serializers.JSONField(allow_null=True)  # noqa: N815
    windowDays = serializers.IntegerField()  # noqa: N815
    minTrades = serializers.IntegerField()  # noqa: N815
    tradeCount = serializers.IntegerField()  # noqa: N815
    rollingWinRate = serializers.FloatField(allow_null=True)  # noqa: N815
    rollingAvgPnlPercent = serializers.FloatField(allow_null=True)  # noqa: N815
    rollingAvgR = serializers.FloatField(allow_null=True)  # noqa: N815
    breakoutInRangeWinRate = serializers.FloatField(allow_null=True)  # noqa: N815
    macroDriftExitAvgPnlPercent = serializers.FloatField(allow_null=True)  # noqa: N815
    parameters = serializers.DictField(child=serializers.FloatField(allow_null=True))
    manualRunAvailable = serializers.BooleanField()  # noqa: N815


class AdaptiveToggleOutputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    previous = serializers.BooleanField()


class AdaptiveHistoryListApi(APIView):
    """GET /api/bias/adaptive/history — every tuner change (applied and dry-run), newest first."""

    pagination_class = ApiPagination

    class FilterSerializer(serializers.Serializer):
        parameter = serializers.CharField(required=False, max_length=80)
        dry_run = serializers.BooleanField(required=False, allow_null=True, default=None)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: AdaptiveHistoryOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params.dict())
        if not query.is_valid():
            return _bad_request(query.errors)
        return paginated_response(serializer_class=AdaptiveHistoryOutputSerializer,
                                  queryset=list_adaptive_history(**query.validated_data), request=request, view=self)


class AdaptiveStatusApi(APIView):
    """GET /api/bias/adaptive/status — enabled?, last run, rolling statistics, tuned parameters."""

    @extend_schema(responses={200: AdaptiveStatusOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(AdaptiveStatusOutputSerializer(get_adaptive_status(now=clock.now())).data)


class AdaptiveToggleApi(APIView):
    """POST /api/bias/adaptive/toggle {"enabled": true|false} — set it; an empty body flips it."""

    class InputSerializer(serializers.Serializer):
        enabled = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={200: AdaptiveToggleOutputSerializer,
                                                       400: OpenApiResponse(description="invalid body")})
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            return _bad_request({"non_field_errors": ["the body must be a JSON object"]})
        body = self.InputSerializer(data=request.data)
        if not body.is_valid():
            return _bad_request(body.errors)
        with entry_point_transaction():
            previous, new = set_adaptive_enabled(enabled=body.validated_data["enabled"])
        return Response({"enabled": new, "previous": previous})
