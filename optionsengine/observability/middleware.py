"""Counts and times every HTTP request by resolved view name (bounded labels, no raw paths)."""

from __future__ import annotations

import time

from optionsengine.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Outermost middleware: measures the whole stack. Unrouted paths share one label."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match else "<unmatched>"
        status = str(response.status_code)
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUESTS.labels(view, method, status).inc()
        HTTP_LATENCY.labels(view, status).observe(time.perf_counter() - started)
        return response
