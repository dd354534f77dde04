"""/ops/ (pipeline monitor) and /ops/trace/<signal_id> (one alert from request to realized P&L).

Staff only: anonymous users are redirected to the admin login. Both pages read the same selectors
as the API (`optionsengine.pipeline.monitoring`, `optionsengine.pipeline.trace`); the decision
trail is rendered by the signal admin's helper so the admin and the page show the same thing.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from optionsengine.api import selectors
from optionsengine.lib import clock
from optionsengine.pipeline.monitoring import TRAFFIC_CHOICES, monitoring_status
from optionsengine.pipeline.trace import get_signal_trace

RECENT_SIGNALS = 20
WINDOW_CHOICES = (1, 6, 24, 72, 168)


def _window_hours(raw: str | None) -> int:
    try:
        value = int(raw or 24)
    except ValueError:
        return 24
    return value if value in WINDOW_CHOICES else 24


@staff_member_required
def monitor(request: HttpRequest) -> HttpResponse:
    traffic = request.GET.get("traffic", "all")
    traffic = traffic if traffic in TRAFFIC_CHOICES else "all"
    window_hours = _window_hours(request.GET.get("window_hours"))
    status = monitoring_status(now=clock.now(), window_hours=window_hours, traffic=traffic)
    recent = selectors.list_signals(is_test={"all": None, "production": False, "test": True}[traffic])
    funnel = status["funnel"]
    steps = [
        ("webhooks", funnel["webhooks"]), ("signals", funnel["signals"]), ("approved", funnel["approved"]),
        ("entry orders", funnel["orders"]), ("filled", funnel["fills"]), ("closed", funnel["closed"]),
    ]
    return render(request, "ops/monitor.html", {
        "status": status, "funnel_steps": steps, "recent_signals": list(recent[:RECENT_SIGNALS]),
        "traffic_choices": TRAFFIC_CHOICES, "window_choices": WINDOW_CHOICES,
    })


@staff_member_required
def trace(request: HttpRequest, signal_id: str) -> HttpResponse:
    from signals_app.admin import decision_trail  # the admin's trail renderer (escaped HTML)

    found = get_signal_trace(signal_id)
    if found is None:
        raise Http404(f"No signal {signal_id}")
    return render(request, "ops/trace.html", {
        "trace": found, "signal": found.signal, "decision_html": decision_trail(found.signal),
    })
