"""The real server (bin/serve: granian + optionsengine/edge.py) against slow and odd clients."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import orjson
import pytest
from django.db import connection

from signals_app.models import Signal, WebhookEvent

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def server():
    port = _free_port()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "optionsengine.settings", "DATABASE_URL": _database_url(),
        "SECRET_KEY": "test", "ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_AUTH": "off", "PORT": str(port),
        "WEB_WORKERS": "2", "HTTP_BODY_TIMEOUT_SECONDS": "30", "LOG_LEVEL": "WARNING",
    }
    env.pop("WEBHOOK_SECRET", None)
    process = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("bin/serve did not start")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def post(port: int, body: bytes, headers: dict | None = None) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/webhook", body=body, headers={"Content-Type": "application/json", **(headers or {})})
    status = conn.getresponse().status
    conn.close()
    return status, time.perf_counter() - started


def test_eight_stalled_uploads_do_not_slow_one_hundred_new_alerts(server):
    stalled = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", server))
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 2000\r\n\r\n{\"ticker\": \"SP")
        stalled.append(sock)
    try:
        results = [post(server, orjson.dumps({"ticker": f"SLOW{i}", "interval": "5", "direction": "long"})) for i in range(100)]
    finally:
        for sock in stalled:
            sock.close()
    assert [status for status, _ in results] == [201] * 100
    slowest = max(seconds for _, seconds in results)
    assert slowest < 1.0, f"slowest alert took {slowest:.3f} s"
    assert Signal.objects.count() == 100


def test_a_chunked_alert_is_accepted_and_a_13_mb_chunked_body_is_a_413(server):
    raw = orjson.dumps({"ticker": "CHUNK", "interval": "5", "direction": "long"})
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.request("POST", "/webhook", body=iter([raw[:7], raw[7:]]), headers={"Content-Type": "application/json"},
                 encode_chunked=True)
    assert conn.getresponse().status == 201
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        conn.request("POST", "/webhook", body=iter([b"x" * 65536] * 200), headers={"Content-Type": "application/json"},
                     encode_chunked=True)
        status = conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        status = 413  # the server answered and closed before the client finished sending
    finally:
        conn.close()
    assert status == 413
    assert WebhookEvent.objects.filter(error_message="Payload too large").count() == 1


def _open_stream(port: int, token: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET /api/stream?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = sock.recv(65536)
        if not chunk:
            break
        seen += chunk
    return seen


def test_event_streams_arrive_as_produced_and_never_hold_the_webhook_thread(server):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("dashboard", password="x", is_staff=True)
    token = Token.objects.create(user=user).key
    # More open streams than the web workers have Django threads (2 workers × 1 thread).
    streams = [_open_stream(server, token) for _ in range(4)]
    try:
        for sock in streams:  # each stream's first frames come now, not when the stream ends
            head = _read_until(sock, b"event: risk_update")
            assert b"200 OK" in head and b"text/event-stream" in head and b": connected" in head
        for n in range(20):
            status, took = post(server, orjson.dumps({"ticker": f"ST{n}", "interval": "5", "direction": "long"}))
            assert status == 201 and took < 1.0
    finally:
        for sock in streams:
            sock.close()
    assert Signal.objects.filter(symbol__startswith="ST").count() == 20


def test_a_body_shorter_than_its_content_length_then_eof_is_an_audited_400(server):
    sock = socket.create_connection(("127.0.0.1", server), timeout=5)
    sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"ticker")
    sock.shutdown(socket.SHUT_WR)  # the client is done sending; it still reads the answer
    answer = _read_until(sock, b"}")
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400") and b"Incomplete request body" in answer
    assert WebhookEvent.objects.filter(error_message="Incomplete request body").count() == 1
