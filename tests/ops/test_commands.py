"""replay_webhooks and validate_e2e against a live server (pytest-django `live_server`)."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from optionsengine.lib import clock
from signals_app.models import Signal
from tests.pipeline.builders import NOW
from tests.pipeline.test_orchestrate import mid_band_iv

pytestmark = pytest.mark.django_db(transaction=True)
ALERTS = Path(__file__).parent / "data" / "alerts.json"


@pytest.fixture(autouse=True)
def at_now():
    with clock.override(NOW):
        yield


def run(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_replay_posts_every_alert_of_the_file_and_writes_a_report(live_server, tmp_path):
    report = tmp_path / "report.json"
    out, _ = run("replay_webhooks", "--file", str(ALERTS), "--url", live_server.url, "--delay", "0",
                 "--report", str(report))
    assert "replaying 4 alert(s)" in out
    assert "summary: accepted=3, duplicate=1" in out
    assert Signal.objects.filter(is_test=True).count() == 3
    rows = json.loads(report.read_text())["results"]
    assert [r["outcome"] for r in rows] == ["accepted", "accepted", "duplicate", "accepted"]
    assert rows[2]["signal_id"] == rows[0]["signal_id"]  # the duplicate names the original


def test_replay_limit_and_builtin_alerts(live_server, tmp_path):
    out, _ = run("replay_webhooks", "--url", f"{live_server.url}/webhook", "--delay", "0", "--limit", "2",
                 "--report", "")
    assert "replaying 2 alert(s)" in out and "accepted=2" in out
    assert set(Signal.objects.values_list("symbol", flat=True)) == {"SPY", "QQQ"}


def test_replay_fails_when_an_alert_is_rejected(live_server, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"interval": "5", "direction": "long"}]))
    with pytest.raises(CommandError, match="1 of 1 alert"):
        run("replay_webhooks", "--file", str(bad), "--url", live_server.url, "--delay", "0", "--report", "")
    out, _ = run("replay_webhooks", "--file", str(bad), "--url", live_server.url, "--delay", "0", "--report", "",
                 "--allow-rejected")
    assert "rejected=1" in out and "Missing symbol" in out


def test_replay_says_so_when_no_server_answers(tmp_path):
    with pytest.raises(CommandError, match="could not reach .* Is the server running"):
        run("replay_webhooks", "--url", "http://127.0.0.1:9", "--delay", "0", "--report", "")


def test_validate_sends_test_alerts_and_follows_them_to_a_fill(live_server):
    with mid_band_iv():
        out, _ = run("validate_e2e", "--send", "--seed-bias", "--url", live_server.url, "--poll", "0.1",
                     "--max", "0.5")
    signals = Signal.objects.filter(is_test=True, test_scenario="validate_e2e")
    assert signals.count() == 3
    assert re.search(r"done: [123] filled, [012] rejected, nothing stuck", out), out
    table = out[out.index("signal  "):]
    assert re.search(r"AAPL\s+long\s+1m\s+filled\s+filled\s+\d+\.\d{4}", table), table


def test_validate_reports_rejections_as_settled(live_server):
    out, _ = run("validate_e2e", "--send", "--url", live_server.url, "--poll", "0.1", "--max", "0.5")
    assert "0 filled, 3 rejected, nothing stuck" in out  # no bias state: mtf_bias_missing
    assert "mtf_bias_missing" in out
    with pytest.raises(CommandError, match="3 signal\\(s\\) did not fill"):
        run("validate_e2e", "--send", "--url", live_server.url, "--poll", "0.1", "--max", "0.5", "--require-fill")


def test_validate_exits_1_when_a_signal_is_stuck(live_server, settings):
    settings.PIPELINE_FAST_PATH = False  # no workers, no cron: nothing moves
    with pytest.raises(CommandError, match="3 signal\\(s\\) stuck"):
        run("validate_e2e", "--send", "--url", live_server.url, "--poll", "0.05", "--max", "0.005")


def test_validate_with_cron_secret_drives_the_pipeline_through_the_cron_endpoint(live_server, settings):
    settings.PIPELINE_FAST_PATH = False
    settings.CRON_SECRET = "s3cret"
    out, _ = run("validate_e2e", "--send", "--url", live_server.url, "--poll", "0.05", "--max", "0.5",
                 "--cron-secret", "s3cret")
    assert "nothing stuck" in out
    assert not Signal.objects.filter(status="pending").exists()


def test_validate_follows_the_last_replay_report(live_server, tmp_path):
    report = tmp_path / "report.json"
    run("replay_webhooks", "--file", str(ALERTS), "--url", live_server.url, "--delay", "0", "--report", str(report))
    out, _ = run("validate_e2e", "--url", live_server.url, "--report", str(report), "--poll", "0.05", "--max", "0.2")
    assert "done: 0 filled, 3 rejected, nothing stuck" in out
