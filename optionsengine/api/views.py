"""Operator read API (SPEC §13): one APIView per operation. Query parameters are validated by a
`FilterSerializer` (bad value → 400 `{"error": "Invalid query", "details": [{field, message}]}`),
lists are paginated (`?limit=&offset=`), unknown ids are 404 `{"error": …}`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bias_app.api.views import SymbolField
from optionsengine.api import (
    schema,  # noqa: F401 - registers the OpenAPI extensions
    selectors,
)
from optionsengine.api.serializers import (
    MonitoringStatusOutputSerializer,
    OrderOutputSerializer,
    PositionOutputSerializer,
    SignalDetailOutputSerializer,
    SignalOutputSerializer,
    SignalTraceOutputSerializer,
    TradeOutputSerializer,
)
from optionsengine.lib import clock
from optionsengine.lib.fields import Engine
from optionsengine.lib.pagination import ApiPagination, paginated_response
from optionsengine.pipeline.monitoring import TRAFFIC_CHOICES, monitoring_status
from optionsengine.pipeline.trace import get_signal_trace, parse_signal_id
from orders_app.models import Order
from positions_app.models import Position
from signals_app.models import Signal

ErrorSerializer = inline_serializer("Error", {"error": serializers.CharField()})
InvalidQuerySerializer = inline_serializer("InvalidQuery", {
    "error": serializers.CharField(),
    "details": inline_serializer("InvalidQueryDetail", {"field": serializers.CharField(),
                                                        "message": serializers.CharField()}, many=True),
})
BAD_QUERY = OpenApiResponse(InvalidQuerySerializer, description="a query parameter failed validation")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="no signal with this id")


def bad_request(errors: dict) -> Response:
    details = [{"field": name, "message": str(message)} for name, messages in errors.items() for message in messages]
    return Response({"error": "Invalid query", "details": details}, status=400)


def not_found(signal_id: str) -> Response:
    return Response({"error": "Signal not found", "signal_id": signal_id}, status=404)


def _query(serializer_class, request: Request):
    """Validated query parameters, or None and the 400 response."""
    query = serializer_class(data=request.query_params.dict())
    if not query.is_valid():
        return None, bad_request(query.errors)
    return query.validated_data, None


class WindowFilterSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="ISO-8601, inclusive")
    until = serializers.DateTimeField(required=False, help_text="ISO-8601, exclusive")
    is_test = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": "must be after since"})
        return attrs


class SignalListApi(APIView):
    """GET /api/signals — newest first."""

    pagination_class = ApiPagination

    class FilterSerializer(WindowFilterSerializer):
        status = serializers.ChoiceField(choices=Signal.Status.choices, required=False)
        symbol = SymbolField(required=False)
        reason = serializers.CharField(required=False, max_length=200,
                                       help_text="prefix of rejection_reason, e.g. entry_tier_block")

    @extend_schema(parameters=[FilterSerializer], responses={200: SignalOutputSerializer(many=True), 400: BAD_QUERY})
    def get(self, request: Request) -> Response:
        filters, error = _query(self.FilterSerializer, request)
        if error:
            return error
        return paginated_response(serializer_class=SignalOutputSerializer, queryset=selectors.list_signals(**filters),
                                  request=request, view=self)


class SignalDetailApi(APIView):
    """GET /api/signals/<signal_id> — every column, the decision trail and a link to the trace."""

    @extend_schema(responses={200: SignalDetailOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, signal_id: str) -> Response:
        pk = parse_signal_id(signal_id)
        signal = selectors.get_signal(pk) if pk is not None else None
        if signal is None:
            return not_found(signal_id)
        return Response(SignalDetailOutputSerializer(signal).data)


class OrderListApi(APIView):
    """GET /api/orders — entries and exits, newest first."""

    pagination_class = ApiPagination

    class FilterSerializer(WindowFilterSerializer):
        status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
        symbol = SymbolField(required=False)
        engine = serializers.ChoiceField(choices=Engine.choices, required=False)
        side = serializers.ChoiceField(choices=Order.Side.choices, required=False)
        signal_id = serializers.UUIDField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: OrderOutputSerializer(many=True), 400: BAD_QUERY})
    def get(self, request: Request) -> Response:
        filters, error = _query(self.FilterSerializer, request)
        if error:
            return error
        return paginated_response(serializer_class=OrderOutputSerializer, queryset=selectors.list_orders(**filters),
                                  request=request, view=self)


class TradeListApi(APIView):
    """GET /api/trades — fills, newest first (exit fills carry their realized P&L)."""

    pagination_class = ApiPagination

    class FilterSerializer(WindowFilterSerializer):
        symbol = SymbolField(required=False)
        engine = serializers.ChoiceField(choices=Engine.choices, required=False)
        side = serializers.ChoiceField(choices=Order.Side.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: TradeOutputSerializer(many=True), 400: BAD_QUERY})
    def get(self, request: Request) -> Response:
        filters, error = _query(self.FilterSerializer, request)
        if error:
            return error
        return paginated_response(serializer_class=TradeOutputSerializer, queryset=selectors.list_trades(**filters),
                                  request=request, view=self)


class PositionListApi(APIView):
    """GET /api/positions — newest entry first."""

    pagination_class = ApiPagination

    class FilterSerializer(WindowFilterSerializer):
        status = serializers.ChoiceField(choices=Position.Status.choices, required=False)
        symbol = SymbolField(required=False)
        engine = serializers.ChoiceField(choices=Engine.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: PositionOutputSerializer(many=True), 400: BAD_QUERY})
    def get(self, request: Request) -> Response:
        filters, error = _query(self.FilterSerializer, request)
        if error:
            return error
        return paginated_response(serializer_class=PositionOutputSerializer,
                                  queryset=selectors.list_positions(**filters), request=request, view=self)


class MonitoringStatusApi(APIView):
    """GET /api/monitoring/status — 24 h funnel, rejections by reason, stuck stage, last activity,
    provider breakers."""

    class FilterSerializer(serializers.Serializer):
        window_hours = serializers.IntegerField(required=False, default=24, min_value=1, max_value=168)
        traffic = serializers.ChoiceField(choices=TRAFFIC_CHOICES, required=False, default="all",
                                          help_text="production: is_test false; test: is_test true")

    @extend_schema(parameters=[FilterSerializer], responses={200: MonitoringStatusOutputSerializer, 400: BAD_QUERY})
    def get(self, request: Request) -> Response:
        filters, error = _query(self.FilterSerializer, request)
        if error:
            return error
        status = monitoring_status(now=clock.now(), **filters)
        return Response(MonitoringStatusOutputSerializer(status).data)


class SignalTraceApi(APIView):
    """GET /api/trace/<signal_id> — one alert from request to realized P&L, and where it stopped."""

    @extend_schema(responses={200: SignalTraceOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, signal_id: str) -> Response:
        trace = get_signal_trace(signal_id)
        if trace is None:
            return not_found(signal_id)
        return Response(SignalTraceOutputSerializer(trace).data)

