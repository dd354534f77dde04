"""Bias read API (SPEC §4, §13): token-authenticated, one APIView per operation, reads via selectors."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bias_app.selectors import HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, get_bias_state, list_bias_history, list_bias_summaries
from optionsengine.lib import clock
from optionsengine.lib.symbols import normalize_symbol

DEFAULT_SYMBOL = "SPY"  # what the original answered for a bare /api/bias/state


class SymbolField(serializers.CharField):
    def to_internal_value(self, data):
        symbol = normalize_symbol(super().to_internal_value(data))
        if symbol is None:
            raise serializers.ValidationError("must match ^[A-Z0-9.^/_-]{1,20}$ after removing an exchange prefix")
        return symbol


def _bad_request(errors: dict) -> Response:
    details = [{"field": name, "message": str(message)} for name, messages in errors.items() for message in messages]
    return Response({"error": "Invalid query", "details": details}, status=400)


class BiasStateGetApi(APIView):
    """GET /api/bias/state?symbol=SPY → {symbol, state} with staleness computed now."""

    class FilterSerializer(serializers.Serializer):
        symbol = SymbolField(required=False, default=DEFAULT_SYMBOL)

    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        if not query.is_valid():
            return _bad_request(query.errors)
        symbol = query.validated_data["symbol"]
        state = get_bias_state(symbol)
        if state is None:
            return Response(
                {
                    "symbol": symbol,
                    "error": "No bias state found",
                    "hint": "No bias webhook has been accepted for this symbol yet: send one to POST /webhook "
                    "or /api/webhooks/mtf-bias, or run `manage.py seed_bias SYMBOL BULLISH|BEARISH|NEUTRAL`",
                },
                status=404,
            )
        return Response({"symbol": symbol, "state": state})


class BiasHistoryListApi(APIView):
    """GET /api/bias/history?symbol=SPY&limit=50 → applied states, newest first (limit 1–100)."""

    class FilterSerializer(serializers.Serializer):
        symbol = SymbolField(required=False, default=DEFAULT_SYMBOL)
        limit = serializers.IntegerField(required=False, default=HISTORY_DEFAULT_LIMIT)

    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        if not query.is_valid():
            return _bad_request(query.errors)
        symbol = query.validated_data["symbol"]
        limit = min(max(query.validated_data["limit"], 1), HISTORY_MAX_LIMIT)
        history = list_bias_history(symbol, limit=limit)
        return Response({"symbol": symbol, "history": history, "count": len(history)})


class BiasSummaryGetApi(APIView):
    """GET /api/bias/summary → one row per symbol: bias, score, confidence, regime, macro class,
    suppressions, stale and age (staleness computed now)."""

    def get(self, request: Request) -> Response:
        now = clock.now()
        symbols = list_bias_summaries(now=now)
        return Response({"symbols": symbols, "count": len(symbols), "generatedAt": now.isoformat()})


class AdaptiveTunerRunApi(APIView):
    """POST /api/bias/run-adaptive {"dryRun": false, "force": false} → the run's summary.

    Dry when asked, when E2E_TEST_MODE is on or when adaptive tuning is disabled; an applied run
    happens once per New York trading day unless forced (SPEC §11)."""

    class InputSerializer(serializers.Serializer):
        dryRun = serializers.BooleanField(required=False, default=False)  # noqa: N815 - JSON contract
        force = serializers.BooleanField(required=False, default=False)

    def post(self, request: Request) -> Response:
        from optionsengine.pipeline.tune import run_adaptive_tuner

        body = self.InputSerializer(data=request.data)
        if not body.is_valid():
            return _bad_request(body.errors)
        run = run_adaptive_tuner(now=clock.now(), dry_run=body.validated_data["dryRun"], force=body.validated_data["force"])
        return Response(run.as_dict())
