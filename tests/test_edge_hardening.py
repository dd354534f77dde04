"""Issue 11: every input that used to answer 5xx now answers a 4xx with one audit row; chunked
bodies, replay protection, safe start-up defaults, throttling and a hung Redis."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from optionsengine import edge
from signals_app.engines import webhook_payload as wp
from signals_app.models import Signal, WebhookEvent

ROOT = Path(__file__).resolve().parent.parent
ALERT = {"ticker": "SPY", "interval": "5", "direction": "long"}
SECRET = "edge-secret-123"
V1 = orjson.loads((ROOT / "tests" / "data" / "bias" / "v1_bias_snapshot.json").read_bytes())


def only_event() -> WebhookEvent:
    events = list(WebhookEvent.objects.all())
    assert len(events) == 1, f"expected one audit row, got {len(events)}"
    return events[0]


def nested(depth: int) -> bytes:
    return b'{"ticker":"SPY","interval":"5","direction":"long","x":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


# --- inputs that used to answer 500 ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [33, 254, 600, 1000])
def test_deeply_nested_json_is_a_400_before_any_recursive_walk(post_webhook, depth):
    response, body = post_webhook(nested(depth))
    assert response.status_code == 400, body
    assert body["error"] == "Invalid payload"
    event = only_event()
    assert event.status == "invalid_payload" and event.raw_payload["_too_deep"] is True
    assert Signal.objects.count() == 0


@pytest.mark.django_db
def test_deeply_nested_json_is_refused_before_authentication_too(post_webhook, settings):
    settings.WEBHOOK_SECRET = SECRET
    response, _ = post_webhook(nested(900))
    assert response.status_code == 400 and only_event().status == "invalid_payload"


@pytest.mark.django_db
def test_nesting_at_the_limit_is_accepted(post_webhook):
    response, body = post_webhook(nested(wp.MAX_JSON_DEPTH - 2))
    assert response.status_code == 201, body


@pytest.mark.django_db
def test_deeply_nested_bias_payload_is_a_422(post_webhook):
    response, _ = post_webhook(b'{"event_id_raw":"x","mtf":' + b"[" * 500 + b"]" * 500 + b"}", path="/api/webhooks/mtf-bias")
    assert response.status_code == 422 and only_event().status == "invalid_payload"


@pytest.mark.django_db
@pytest.mark.parametrize("timeframe", ["5" * 4301, "9" * 5000 + "m", "1" * 25])
def test_a_timeframe_of_thousands_of_digits_is_a_400(post_webhook, timeframe):
    response, body = post_webhook({**ALERT, "interval": timeframe})
    assert response.status_code == 400 and body["error"] == "Missing or invalid timeframe"
    assert only_event().status == "invalid_payload"


@pytest.mark.django_db
@pytest.mark.parametrize(("high", "low"), [(1.7e308, 1.6e308), (1.7e308, -1.7e308), (1e16, 1)])
def test_v1_bias_levels_near_the_float_limit_are_a_422(post_webhook, frozen_now, high, low):
    payload = {**V1, "levels": {**V1["levels"], "orb": {**V1["levels"]["orb"], "high": high, "low": low}}}
    response, body = post_webhook(payload)
    assert response.status_code == 422, body
    assert only_event().status == "invalid_payload"


def test_a_derived_value_that_overflows_is_refused_not_stored():
    from bias_app.engines.normalize import non_finite_paths

    assert non_finite_paths({"levels": {"orb": {"mid": float("inf")}}, "x": [1.0, float("nan")]}) == ["levels.orb.mid", "x[1]"]


# --- chunked bodies ----------------------------------------------------------------------------


def _chunked_request(client_handler, body: bytes):
    from django.test.client import RequestFactory

    request = RequestFactory().post("/webhook", data=b"", content_type="application/json")
    request.environ.pop("CONTENT_LENGTH", None)
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = io.BytesIO(body)
    request._stream = io.BytesIO(b"")  # what Django's LimitedStream yields without a Content-Length
    return client_handler(request)


@pytest.mark.django_db
def test_a_chunked_alert_under_a_wsgi_server_is_read_and_accepted():
    from signals_app.views import webhook

    response = _chunked_request(webhook, orjson.dumps(ALERT))
    assert response.status_code == 201, response.content
    assert Signal.objects.count() == 1


@pytest.mark.django_db
def test_a_chunked_body_over_the_cap_is_a_413():
    from signals_app.views import webhook

    response = _chunked_request(webhook, b"x" * (13 * 1024 * 1024))
    assert response.status_code == 413
    assert only_event().error_message == "Payload too large"


class FakeProto:
    """An RSGI protocol whose body arrives in chunks, possibly never finishing."""

    def __init__(self, chunks, stall=False, ends_early=False):
        self.chunks, self.stall, self.ends_early, self.sent = list(chunks), stall, ends_early, None

    async def __call__(self):  # the whole body at once (a declared Content-Length)
        if self.ends_early:
            from granian.rsgi import ProtocolClosed

            raise ProtocolClosed("connection ended before the declared body")
        return b"".join(self.chunks)

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.chunks:
            return self.chunks.pop(0)
        if self.stall:
            await asyncio.sleep(3600)
        raise StopAsyncIteration

    def response_bytes(self, status, headers, body):
        self.sent = (status, dict(headers), body)


class FakeScope:
    proto, http_version, scheme, server, client, query_string = "http", "1.1", "http", "127.0.0.1:8000", "127.0.0.1:5555", ""

    def __init__(self, path="/webhook", method="POST", headers=None):
        self.path, self.method = path, method
        self.headers = _Headers(headers or {"content-type": "application/json", "transfer-encoding": "chunked"})


class _Headers(dict):
    def items(self):
        return list(super().items())


def run_edge(proto, scope, *, timeout=0.3):
    from optionsengine.wsgi import application as django_app

    app = edge.EdgeApp(django_app, max_body_bytes=128 * 1024, body_timeout=timeout)
    asyncio.run(app.__rsgi__(scope, proto))
    app.__rsgi_del__(None)
    return proto.sent


def declared(raw: bytes) -> FakeScope:
    return FakeScope(headers={"content-type": "application/json", "content-length": str(len(raw))})


@pytest.mark.django_db(transaction=True)
def test_the_edge_reads_a_declared_length_body_in_one_piece():
    raw = orjson.dumps(ALERT)
    status, _, body = run_edge(FakeProto([raw]), declared(raw))
    assert status == 201, body


@pytest.mark.django_db(transaction=True)
def test_a_body_cut_short_by_the_connection_is_a_400_with_an_audit_row_not_a_500():
    raw = orjson.dumps(ALERT)
    status, headers, body = run_edge(FakeProto([raw[:7]], ends_early=True), declared(raw))
    assert (status, orjson.loads(body)["error"], headers.get("connection")) == (400, "Incomplete request body", "close")
    event = WebhookEvent.objects.get()
    assert (event.status, event.error_message) == ("invalid_payload", "Incomplete request body")
    assert not Signal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_edge_assembles_a_chunked_body_for_django():
    raw = orjson.dumps(ALERT)
    status, _, body = run_edge(FakeProto([raw[:10], raw[10:]]), FakeScope())
    assert status == 201, body


@pytest.mark.django_db(transaction=True)
def test_the_edge_cuts_off_a_stalled_upload_with_an_audited_408():
    status, headers, _ = run_edge(FakeProto([b'{"ticker":'], stall=True), FakeScope())
    assert status == 408 and headers["connection"] == "close"
    assert only_event().error_message == "Request body timeout"


@pytest.mark.django_db(transaction=True)
def test_the_edge_stops_reading_a_chunked_body_over_the_cap_with_an_audited_413():
    status, _, _ = run_edge(FakeProto([b"x" * 65536] * 200), FakeScope())
    assert status == 413
    assert only_event().error_message == "Payload too large"


def test_the_edge_answers_oversized_bodies_elsewhere_itself():
    status, _, body = run_edge(FakeProto([b"x" * 200_000]), FakeScope(path="/admin/login/"))
    assert status == 413 and b"Payload too large" in body


# --- replay protection (Standard Webhooks header form) -------------------------------------------


@pytest.mark.django_db
class TestStandardWebhooks:
    @pytest.fixture(autouse=True)
    def secret(self, settings):
        settings.WEBHOOK_SECRET = SECRET

    def post(self, client, body: bytes, *, msg_id="msg_1", timestamp=None, secret=SECRET):
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = wp.sign_standard(secret=secret, msg_id=msg_id, timestamp=timestamp, raw_body=body)
        return client.post("/webhook", data=body, content_type="application/json", HTTP_WEBHOOK_ID=msg_id,
                           HTTP_WEBHOOK_TIMESTAMP=timestamp, HTTP_WEBHOOK_SIGNATURE=signature)

    def test_a_signed_request_is_accepted(self, client):
        assert self.post(client, orjson.dumps(ALERT)).status_code == 201

    def test_the_same_message_replayed_is_refused_even_after_the_duplicate_window(self, client, settings):
        settings.DUPLICATE_WINDOW_SECONDS = 0
        raw = orjson.dumps(ALERT)
        assert self.post(client, raw).status_code == 201
        replay = self.post(client, raw)
        assert replay.status_code == 401
        assert Signal.objects.count() == 1
        assert WebhookEvent.objects.filter(status="invalid_signature", error_message="Replayed message").count() == 1

    def test_a_timestamp_outside_the_tolerance_is_refused(self, client):
        response = self.post(client, orjson.dumps(ALERT), timestamp=int(time.time()) - 301)
        assert response.status_code == 401 and response.json()["error"] == "Invalid signature"  # SPEC §3
        assert only_event().error_message == "Signature timestamp outside tolerance"  # the cause, audited

    def test_a_signature_with_another_secret_or_body_is_refused(self, client):
        assert self.post(client, orjson.dumps(ALERT), secret="other").status_code == 401

    def test_a_whsec_secret_is_used_decoded(self, client, settings):
        import base64

        settings.WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()
        assert self.post(client, orjson.dumps(ALERT), secret=settings.WEBHOOK_SECRET).status_code == 201

    def test_a_failed_delivery_can_be_retried_with_the_same_id(self, client, monkeypatch):
        def explode(**kwargs):
            raise RuntimeError("database went away")

        monkeypatch.setattr("optionsengine.pipeline.ingest.record_signal_webhook", explode)
        assert self.post(client, orjson.dumps(ALERT)).status_code == 500
        monkeypatch.undo()
        assert self.post(client, orjson.dumps(ALERT)).status_code == 201


# --- safe defaults -------------------------------------------------------------------------------


def _django_setup(env_changes: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("WEBHOOK_SECRET", "HMAC_SECRET", "WEBHOOK_AUTH")}
    env.update({"DJANGO_SETTINGS_MODULE": "optionsengine.settings", "SECRET_KEY": "x", "ALLOWED_HOSTS": "h"}, **env_changes)
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_scaled_mode_refuses_to_start_without_a_webhook_secret():
    result = _django_setup({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"})
    assert result.returncode != 0 and "WEBHOOK_SECRET is required" in result.stderr


def test_scaled_mode_starts_open_only_when_auth_is_explicitly_off_and_says_so_loudly():
    result = _django_setup({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "WEBHOOK_AUTH": "off"})
    assert result.returncode == 0, result.stderr
    assert "WEBHOOK AUTHENTICATION IS OFF (WEBHOOK_AUTH=off)" in result.stderr


def test_scaled_mode_starts_with_a_secret():
    assert _django_setup({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "WEBHOOK_SECRET": "s"}).returncode == 0


def test_webhook_auth_on_without_a_secret_refuses_even_embedded():
    env = {"WEBHOOK_AUTH": "on"}
    result = _django_setup(env) if not os.environ.get("DATABASE_URL") else _django_setup({**env, "DATABASE_URL": ""})
    assert result.returncode != 0 and "WEBHOOK_SECRET is required" in result.stderr


def test_make_run_binds_localhost_unless_told_otherwise():
    text = (ROOT / "bin" / "serve").read_text()
    assert 'WEB_HOST:-127.0.0.1' in text


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["body", "query", "header"])
def test_a_secret_sent_while_auth_is_off_gets_a_warning(post_webhook, caplog, how):
    extra = {"HTTP_X_WEBHOOK_SIGNATURE": "abc"} if how == "header" else {}
    body = {**ALERT, "secret": "s"} if how == "body" else ALERT
    path = "/webhook?token=s" if how == "query" else "/webhook"
    response, reply = post_webhook(body, path=path, **extra)
    assert response.status_code == 201
    assert "authentication is off" in reply["warning"]
    assert "carries a secret but webhook authentication is off" in caplog.text


@pytest.mark.django_db
def test_no_warning_without_a_secret(post_webhook):
    assert "warning" not in post_webhook(ALERT)[1]


# --- throttling ----------------------------------------------------------------------------------


@pytest.fixture
def low_rates(settings):
    from django.core.cache import cache

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "3/min", "webhook_invalid_signature": "3/min"}}
    addr = f"10.{os.getpid() % 250}.{int(time.time() * 1000) % 250}.7"  # fresh per run: Redis may be shared
    yield addr
    cache.delete_many([f"throttle_login_{addr}", f"throttle_webhook_invalid_signature_{addr}", f"security:login_throttled:{addr}"])


@pytest.mark.django_db
def test_token_login_flood_answers_429_with_retry_after_and_an_audit_row(client, low_rates, caplog):
    from optionsengine.models import SecurityEvent

    answers = [client.post("/api/auth/token", {"username": "u", "password": "p"}, REMOTE_ADDR=low_rates) for _ in range(6)]
    assert [a.status_code for a in answers] == [400, 400, 400, 429, 429, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert "token login throttled" in caplog.text
    # One row per address per throttle window: three refusals, one INSERT (wrong passwords are 400s).
    (event,) = SecurityEvent.objects.all()
    assert (event.kind, event.client_addr, event.username) == ("login_throttled", low_rates, "u")
    assert "retry after" in event.detail


@pytest.mark.django_db
def test_repeated_invalid_signatures_answer_429_audited_but_valid_requests_pass(client, low_rates, settings):
    settings.WEBHOOK_SECRET = SECRET

    def post(body):
        return client.post("/webhook", data=orjson.dumps(body), content_type="application/json", REMOTE_ADDR=low_rates)

    codes = [post({**ALERT, "secret": "wrong"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    throttled = post({**ALERT, "secret": "wrong"})
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert WebhookEvent.objects.filter(status="invalid_signature").count() == 5
    assert WebhookEvent.objects.filter(error_message__endswith="(throttled)").count() == 2
    assert post({**ALERT, "secret": SECRET}).status_code == 201


# --- a hung Redis --------------------------------------------------------------------------------


@pytest.fixture
def hung_redis():
    """A socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_hung_redis_costs_one_short_timeout_then_the_breaker_answers_misses(hung_redis):
    from optionsengine.lib.redis_cache import BreakerRedisCache

    cache = BreakerRedisCache(hung_redis, {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "BREAKER_SECONDS": 30}})
    started = time.perf_counter()
    assert cache.get("k", "miss") == "miss"
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(50):
        assert cache.get("k") is None and cache.set("k", 1) is False and cache.add("k", 1) is False
    rest = time.perf_counter() - started
    assert first < 0.5 and rest < 0.05 and cache.breaker_open


@pytest.mark.django_db
def test_bias_requests_with_a_hung_redis_stay_fast(post_webhook, frozen_now, hung_redis, settings):
    settings.CACHES = {"default": {"BACKEND": "optionsengine.lib.redis_cache.BreakerRedisCache", "LOCATION": hung_redis,
                                   "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "BREAKER_SECONDS": 30}}}
    timings = []
    for index in range(5):
        payload = {**V1, "event_id_raw": f"{V1['event_id_raw']}-{index}", "event_ts_ms": V1["event_ts_ms"] + index}
        started = time.perf_counter()
        response, body = post_webhook(payload)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, body
    assert sum(timings) < 1.0, timings  # at most one 0.2 s timeout in total, not several per request


@pytest.mark.django_db
def test_health_reports_an_open_redis_breaker_as_a_degraded_cache(client, hung_redis, settings):
    settings.CACHES = {"default": {"BACKEND": "optionsengine.lib.redis_cache.BreakerRedisCache", "LOCATION": hung_redis,
                                   "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "BREAKER_SECONDS": 30}}}
    client.get("/health")  # the first probe meets the hung Redis and opens the breaker
    body = client.get("/health").json()
    assert body["database"]["ok"] is True and body["cache"]["ok"] is False
    assert "breaker open" in body["cache"]["error"] and body["status"] == "degraded"


def test_a_stream_cancelled_mid_chunk_closes_its_response_once_the_chunk_returns():
    """Closing a generator another thread is inside fails and would leak its subscription."""
    release, inside = threading.Event(), threading.Event()

    class Response:
        closed_cleanly = None

        def __init__(self):
            def frames():
                yield b": connected\n\n"
                inside.set()
                release.wait(5)
                yield b": heartbeat\n\n"

            self.frames = frames()

        def __iter__(self):
            return self.frames

        def close(self):
            try:
                self.frames.close()
                Response.closed_cleanly = True
            except ValueError:  # generator already executing
                Response.closed_cleanly = False

    class Transport:
        async def send_bytes(self, data):
            pass

    class Proto:
        def response_stream(self, status, headers):
            return Transport()

    app = edge.EdgeApp(None, max_body_bytes=1024, body_timeout=1)

    async def scenario():
        task = asyncio.create_task(app._stream(Proto(), 200, [], Response()))
        await asyncio.get_running_loop().run_in_executor(None, inside.wait, 5)
        task.cancel()  # e.g. the worker shutting down while the generator waits for an event
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()

    asyncio.run(scenario())
    for _ in range(50):
        if Response.closed_cleanly is not None:
            break
        time.sleep(0.05)
    app.__rsgi_del__(None)
    assert Response.closed_cleanly is True
