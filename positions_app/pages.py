"""The P&L operator page (SPEC §13): `/ops/pnl`, staff login, server-rendered, no external assets.

Routed by `optionsengine/observability/urls.py`; the pipeline monitor and trace pages live elsewhere.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from positions_app.engines import performance
from positions_app.pnl_selectors import list_closed_trades

ENGINE_LABELS = {"A": "Engine A (rules)", "B": "Engine B (agents)", "unknown": "No engine recorded"}


@require_GET
@staff_member_required
def pnl_page(request: HttpRequest) -> HttpResponse:
    include_test = request.GET.get("include_test", "").lower() in {"1", "true", "yes", "on"}
    trades = list_closed_trades(include_test=include_test)
    curve = performance.equity_curve(trades)
    context = {
        "include_test": include_test,
        "overall": performance.summarize("all", trades),
        "max_drawdown": performance.max_drawdown(curve),
        "chart": performance.chart(curve),
        "engines": [(ENGINE_LABELS.get(s.key, s.key), s) for s in performance.by_engine(trades)],
        "symbols": [(s.key, s) for s in performance.by_symbol(trades)],
        "recent": list(reversed(curve[-20:])),
    }
    return render(request, "ops/pnl.html", context)

