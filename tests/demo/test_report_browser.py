"""The demo's report opens in headless Chromium and shows the equity curve (skipped without Chromium)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from optionsengine.management.commands.demo import BUNDLED_SESSION
from tests.demo.test_replay import _at, short_session
from tests.pnl.test_pnl_browser import CHROMIUM, _chromium

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: `apt-get install -y chromium` (CI installs it)"),
    pytest.mark.django_db(transaction=True),
]


def test_demo_report_renders_its_equity_curve_in_a_browser(tmp_path):
    session = short_session(minutes=40, manage_for=20)
    raw = json.loads(BUNDLED_SESSION.read_text())
    raw["alerts"] = [a for a in raw["alerts"] if _at(a) <= session.alerts[-1].at]
    raw["end"] = session.end.isoformat()
    alerts = tmp_path / "alerts.json"
    alerts.write_text(json.dumps(raw))
    report = tmp_path / "report.html"
    call_command("demo", "--file", str(alerts), "--report", str(report), "--in-place", "--no-progress",
                 "--close-out-days", "0", stdout=StringIO())
    result = _chromium(tmp_path, "--dump-dom", report.as_uri())
    dom = result.stdout
    assert 'id="equity-curve"' in dom, f"report not rendered; chromium said: {result.stderr[-2000:]}"
    assert "Realized P&amp;L by engine" in dom or "Realized P&L by engine" in dom
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", report.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000  # a rendered page, not a blank one
