"""`GET /api/stream`: authentication, event delivery (in-process transport), heartbeats, lifetime."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from django.test import override_settings

from optionsengine.lib import clock
from optionsengine.observability import broadcast
from optionsengine.pipeline import events
from tests.realtime.conftest import event_frame, read_until, sample_position_payload


@pytest.fixture(autouse=True)
def in_process_transport(settings):
    """These tests exercise the in-process broadcaster, also in the suite that runs with Redis."""
    settings.REDIS_URL = ""


def _data(frame: str) -> dict:
    line = next(line for line in frame.splitlines() if line.startswith("data: "))
    return json.loads(line[len("data: "):])


@pytest.mark.django_db
def test_no_token_is_401(client):
    response = client.get("/api/stream")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert broadcast.local_hub.subscriber_count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"HTTP_AUTHORIZATION": "Token not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Bearer not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwdw=="},
        {"QUERY_STRING": "token=not-a-real-token"},
    ],
    ids=["token-header", "bearer-header", "basic-auth", "query"],
)
def test_bad_token_is_401(client, api_token, kwargs):
    assert client.get("/api/stream", **kwargs).status_code == 401


@pytest.mark.django_db
def test_token_of_an_inactive_user_is_401(client, api_token, django_user_model):
    django_user_model.objects.filter(username="stream-reader").update(is_active=False)
    assert client.get("/api/stream", HTTP_AUTHORIZATION=f"Token {api_token}").status_code == 401


@pytest.mark.django_db
def test_bad_header_is_not_rescued_by_a_session(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="boss", password="x", is_staff=True))
    assert client.get("/api/stream", HTTP_AUTHORIZATION="Token wrong").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("style", ["Token", "Bearer", "query"])
def test_good_token_streams_an_event_published_after_connecting(client, api_token, fast_stream, style):
    kwargs = {"QUERY_STRING": f"token={api_token}"} if style == "query" else {"HTTP_AUTHORIZATION": f"{style} {api_token}"}
    response = client.get("/api/stream", **kwargs)
    try:
        assert response.status_code == 200
        assert response["Content-Type"] == "text/event-stream"
        assert response["Cache-Control"] == "no-cache"
        frames = iter(response.streaming_content)
        opening = read_until(frames, event_frame("risk_update"))  # the snapshot comes first
        assert opening[0].startswith("retry: ") and ": connected (in-process)" in opening[0]
        snapshot = _data(opening[-1])
        assert snapshot["type"] == "risk_update" and snapshot["data"]["open_positions"] == 0

        events.publish(events.POSITION_UPDATE, sample_position_payload())  # after connecting

        frame = read_until(frames, event_frame("position_update"))[-1]
        body = _data(frame)
        assert body == {"type": "position_update", "data": sample_position_payload()}
    finally:
        response.close()
    assert broadcast.local_hub.subscriber_count() == 0  # closing the response releases the subscription


@pytest.mark.django_db
def test_staff_session_may_stream_but_other_users_may_not(client, django_user_model, fast_stream):
    client.force_login(django_user_model.objects.create_user(username="plain", password="x"))
    assert client.get("/api/stream").status_code == 401
    client.force_login(django_user_model.objects.create_user(username="staffer", password="x", is_staff=True))
    response = client.get("/api/stream")
    assert response.status_code == 200
    response.close()


@pytest.mark.django_db
def test_heartbeats_and_bounded_lifetime(client, api_token, settings):
    settings.REALTIME_HEARTBEAT_SECONDS = 0.05
    settings.REALTIME_MAX_STREAM_SECONDS = 0.4
    response = client.get("/api/stream", HTTP_AUTHORIZATION=f"Token {api_token}")
    started = time.monotonic()
    frames = [f.decode() for f in response.streaming_content]  # ends by itself
    response.close()
    assert time.monotonic() - started < 3
    assert sum(f == ": heartbeat\n\n" for f in frames) >= 3
    assert frames[-1] == ": lifetime reached, reconnect\n\n"
    assert broadcast.local_hub.subscriber_count() == 0


@pytest.mark.django_db
def test_both_event_types_flow_and_publish_keeps_counting(client, api_token, fast_stream):
    events.reset_counts()
    response = client.get("/api/stream", HTTP_AUTHORIZATION=f"Token {api_token}")
    frames = iter(response.streaming_content)
    read_until(frames, event_frame("risk_update"))
    events.publish_risk(clock.now())
    frame = read_until(frames, event_frame("risk_update"))[-1]
    response.close()
    data = _data(frame)["data"]
    assert {"timestamp", "open_positions", "max_open_positions", "unrealized_pnl", "realized_pnl"} <= set(data)
    assert events.published_counts() == {"risk_update": 1}


def test_unknown_event_type_is_still_refused():
    with pytest.raises(ValueError):
        events.publish("order_update", {})


def test_a_slow_stream_drops_overflow_instead_of_blocking_the_publisher(monkeypatch):
    monkeypatch.setattr(broadcast, "MAX_BUFFERED", 2)
    hub = broadcast.LocalHub()
    subscription = hub.subscribe()
    for i in range(5):
        hub.publish(broadcast.Event("position_update", json.dumps({"i": i})))
    got = [subscription.get(timeout=0) for _ in range(3)]
    subscription.close()
    assert [json.loads(e.json)["i"] for e in got if e] == [0, 1] and got[2] is None
    assert hub.subscriber_count() == 0


def test_delivery_problems_never_reach_the_publisher(monkeypatch):
    def broken(event):
        raise RuntimeError("boom")

    monkeypatch.setattr(broadcast.local_hub, "publish", broken)
    broadcast.send("position_update", sample_position_payload())  # logged and counted, not raised


@pytest.mark.django_db(transaction=True)
def test_stream_under_a_real_wsgi_server(live_server, api_token):
    """The same stream through a real HTTP server thread (Django's WSGI live server)."""
    with override_settings(REALTIME_HEARTBEAT_SECONDS=0.2, REALTIME_MAX_STREAM_SECONDS=10):
        request = urllib.request.Request(f"{live_server.url}/api/stream", headers={"Authorization": f"Bearer {api_token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
            assert response.readline().startswith(b"retry: ")  # connected: the subscription exists
            publisher = threading.Timer(0.1, events.publish, args=(events.POSITION_UPDATE, sample_position_payload("abc")))
            publisher.start()
            deadline = time.monotonic() + 5
            lines = []
            while time.monotonic() < deadline:
                try:
                    line = response.readline().decode()
                except TimeoutError:
                    break
                lines.append(line)
                if line.startswith("data: ") and '"position_update"' in line:
                    break
            publisher.join()
    assert any(line == "event: position_update\n" for line in lines), lines
    assert json.loads(lines[-1][len("data: "):])["data"]["id"] == "abc"
