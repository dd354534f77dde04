"""`/api/stream` fanned out through Redis pub/sub (runs only when REDIS_URL is set)."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from optionsengine.observability import broadcast
from optionsengine.pipeline import events
from tests.realtime.conftest import event_frame, read_until, sample_position_payload

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)"),
    pytest.mark.django_db,
]


@pytest.fixture
def channel(settings, fast_stream):
    """A channel of this test's own: Redis channels are shared by every database on the server."""
    settings.REALTIME_CHANNEL = f"optionsengine-test:{uuid.uuid4().hex}"
    return settings.REALTIME_CHANNEL


def test_event_published_through_redis_reaches_the_stream(client, api_token, channel):
    response = client.get("/api/stream", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    try:
        assert response.status_code == 200
        frames = iter(response.streaming_content)
        opening = read_until(frames, event_frame("risk_update"))
        assert ": connected (redis)" in opening[0]
        assert broadcast.local_hub.subscriber_count() == 0  # the stream listens on Redis, not in-process

        events.publish(events.POSITION_UPDATE, sample_position_payload("via-publish"))
        frame = read_until(frames, event_frame("position_update"))[-1]
        assert '"id":"via-publish"' in frame
    finally:
        response.close()


def test_event_from_another_process_reaches_the_stream(client, api_token, channel):
    """A worker on another machine only shares Redis with us: PUBLISH from a separate connection."""
    import redis

    other_process = redis.Redis.from_url(os.environ["REDIS_URL"])
    response = client.get("/api/stream", QUERY_STRING=f"token={api_token}")
    try:
        frames = iter(response.streaming_content)
        read_until(frames, event_frame("risk_update"))
        body = {"type": "position_update", "data": sample_position_payload("from-worker")}
        assert other_process.publish(channel, json.dumps(body)) == 1  # exactly our stream is subscribed
        frame = read_until(frames, event_frame("position_update"))[-1]
        assert json.loads(frame.splitlines()[1][len("data: "):]) == body
    finally:
        response.close()
        other_process.close()
    assert other_process.publish(channel, "{}") == 0  # closing the response unsubscribed


def test_unreachable_redis_refuses_the_stream_with_503(client, api_token, settings, monkeypatch):
    monkeypatch.setattr(broadcast, "_client", None)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/api/stream", HTTP_AUTHORIZATION=f"Token {api_token}")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    broadcast.send("risk_update", {"x": 1})  # and publishing still never raises
    monkeypatch.setattr(broadcast, "_client", None)  # drop the client to the dead URL
