"""POST /api/cron/process-queue (SPEC §12)."""

from __future__ import annotations

from unittest import mock

import pytest

from optionsengine.pipeline.run_once import STAGES
from tests.pipeline.builders import NOW, make_signal

pytestmark = pytest.mark.django_db
URL = "/api/cron/process-queue"
SECRET = "cron-secret-123"


@pytest.fixture
def cron_on(settings):
    settings.CRON_SECRET = SECRET
    settings.ENABLE_CRON_PROCESSING = True
    return settings


def test_unset_secret_answers_503(client, settings):
    settings.CRON_SECRET = ""
    response = client.post(URL, HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    assert response.status_code == 503
    assert "CRON_SECRET" in response.json()["error"]


def test_no_secret_answers_401(client, cron_on):
    response = client.post(URL)
    assert response.status_code == 401 and response.json()["error"] == "Unauthorized"


@pytest.mark.parametrize("headers", [
    {"HTTP_AUTHORIZATION": "Bearer wrong"},
    {"HTTP_X_CRON_SECRET": "wrong"},
    {"HTTP_AUTHORIZATION": f"Basic {SECRET}"},
    {"HTTP_X_CRON_SECRET": "ünïcode"},
])
def test_a_bad_secret_answers_401(client, cron_on, headers):
    with mock.patch("optionsengine.pipeline.run_once.run_once") as run_once:
        response = client.post(URL, **headers)
    assert response.status_code == 401
    run_once.assert_not_called()


def test_the_secret_is_compared_in_constant_time(client, cron_on):
    import hmac

    with mock.patch("optionsengine.cron.hmac.compare_digest", wraps=hmac.compare_digest) as compare:
        assert client.post(URL, HTTP_X_CRON_SECRET="wrong").status_code == 401
    compare.assert_called_once_with(b"wrong", SECRET.encode())


def test_the_skip_flag_answers_200_without_running(client, cron_on):
    cron_on.ENABLE_CRON_PROCESSING = False
    with mock.patch("optionsengine.pipeline.run_once.run_once") as run_once:
        response = client.post(URL, HTTP_X_CRON_SECRET=SECRET)
    assert response.status_code == 200
    assert response.json()["skip"] is True and response.json()["ok"] is True
    run_once.assert_not_called()


@pytest.mark.parametrize("headers", [{"HTTP_AUTHORIZATION": f"Bearer {SECRET}"}, {"HTTP_X_CRON_SECRET": SECRET}])
def test_both_header_forms_run_every_stage_once_with_per_stage_counts(client, cron_on, headers):
    from optionsengine.lib import clock

    make_signal(is_test=True)  # no bias: the orchestrator rejects it
    with clock.override(NOW):
        response = client.post(URL, **headers)
    assert response.status_code == 200
    body = response.json()
    assert list(body["results"]) == [name for name, _ in STAGES]
    assert body["results"]["orchestrator"]["counts"]["claimed"] == 1
    assert body["results"]["orchestrator"]["counts"]["rejected:mtf_bias_missing"] == 1
    assert body["ok"] is True and body["errors"] == [] and isinstance(body["durationMs"], int)


def test_a_failing_stage_is_reported_and_the_next_stages_still_run(client, cron_on):
    with mock.patch("optionsengine.pipeline.create_orders.sweep", side_effect=RuntimeError("no db")):
        body = client.post(URL, HTTP_X_CRON_SECRET=SECRET).json()
    assert body["ok"] is False
    assert body["errors"] == ["order_creator: RuntimeError: no db"]
    assert body["results"]["order_creator"]["errors"] == ["RuntimeError: no db"]
    assert "paper_executor" in body["results"] and body["results"]["paper_executor"]["errors"] == []


def test_get_is_not_allowed(client, cron_on):
    assert client.get(URL, HTTP_X_CRON_SECRET=SECRET).status_code == 405
