"""The HTTP edge under granian: no slow or oversized upload ever holds a Python thread.

granian parses HTTP in Rust, but in its WSGI mode a request reaches a Python thread as soon as its
headers have arrived, and reading the body there blocks that thread for as long as the client
takes (granian has no body read timeout): a handful of stalled uploads would stall the service.
This module is an RSGI application instead. The body is read on the worker's event loop, with the
size cap (`WEBHOOK_MAX_BODY_BYTES`) and a deadline (`HTTP_BODY_TIMEOUT_SECONDS`); only a complete
request is handed to Django's ordinary WSGI handler, on one thread per worker (the work is CPU bound
under the GIL, and one thread keeps one persistent database connection per worker).

A body over the cap or not complete in time is not read further. On the webhook endpoints Django
still gets the request, with `EDGE_PROBLEM` set in the environ, so the view answers 413/408 and
writes its audit row; anywhere else the edge answers itself. Chunked bodies arrive de-chunked and
are handed on with a real Content-Length.

A streaming response (`/api/stream`, server-sent events) is not buffered: its chunks are sent as
they are produced, pulled on a separate pool of stream threads (`WEB_STREAM_THREADS`), because its
iterator blocks between events and must never hold the thread the webhooks are served on.

    granian --interface rsgi optionsengine.edge:application     (bin/serve does this)
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from granian.rsgi import ProtocolClosed, ProtocolError

logger = logging.getLogger(__name__)

EDGE_PROBLEM = "optionsengine.edge_problem"  # environ key; set only here, never from a header
TOO_LARGE = "too_large"
TIMEOUT = "timeout"
INCOMPLETE = "incomplete"  # the connection ended before the declared body did
WEBHOOK_PATH_PREFIXES = ("/webhook", "/api/webhooks/")
_STATUS_TEXT = {
    TOO_LARGE: (413, b'{"error":"Payload too large"}'),
    TIMEOUT: (408, b'{"error":"Request body timeout"}'),
    INCOMPLETE: (400, b'{"error":"Incomplete request body"}'),
}
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


async def read_body(proto, *, limit: int, timeout: float, declared: int | None) -> tuple[bytes, str | None]:
    """(body, problem): the whole body, or b"" and why it was not read to the end."""
    if declared is not None and declared > limit:
        return b"", TOO_LARGE
    try:
        async with asyncio.timeout(timeout):  # one deadline for the whole body, however it trickles in
            if declared is not None:  # Content-Length framing: at most `declared` (≤ limit) bytes, one await
                return await proto(), None
            chunks: list[bytes] = []
            size = 0
            async for chunk in proto:  # chunked: count as it arrives, stop at the cap
                size += len(chunk)
                if size > limit:
                    return b"", TOO_LARGE
                chunks.append(chunk)
            return b"".join(chunks), None
    except TimeoutError:
        return b"", TIMEOUT


def _split_host(value: str, default_port: str) -> tuple[str, str]:
    host, sep, port = value.rpartition(":")
    if not sep or "]" in port:  # no port, or a bare IPv6 address
        return value.strip("[]"), default_port
    return host.strip("[]"), port


def build_environ(scope, body: bytes, problem: str | None) -> dict:
    server_name, server_port = _split_host(scope.server, "80")
    remote_addr, remote_port = _split_host(scope.client, "0")
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path,
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": remote_addr,
        "REMOTE_PORT": remote_port,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        key = name.lower()
        if key in ("content-length", "transfer-encoding"):
            continue
        if key == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        meta = "HTTP_" + key.upper().replace("-", "_")
        environ[meta] = f"{environ[meta]},{value}" if meta in environ else value
    if problem:
        environ[EDGE_PROBLEM] = problem
    return environ


def _declared_length(scope) -> int | None:
    raw = scope.headers.get("content-length")
    return int(raw) if raw is not None and raw.strip().isdigit() and len(raw.strip()) < 19 else None


class EdgeApp:
    """RSGI application: read the body within limits on the event loop, then run Django on a thread."""

    def __init__(self, wsgi_app, *, max_body_bytes: int, body_timeout: float, threads: int = 1, stream_threads: int = 32):
        self.wsgi_app = wsgi_app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.threads = threads
        self.stream_threads = stream_threads  # open streaming responses served at once, per worker
        self.executor: ThreadPoolExecutor | None = None
        self.stream_executor: ThreadPoolExecutor | None = None
        self.close_executor: ThreadPoolExecutor | None = None

    def __rsgi_init__(self, loop) -> None:
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="django")

    def __rsgi_del__(self, loop) -> None:
        for pool in (self.executor, self.stream_executor, self.close_executor):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    async def __rsgi__(self, scope, proto) -> None:
        if scope.proto != "http":
            return  # websockets are not served
        if self.executor is None:
            self.__rsgi_init__(None)
        if scope.method in _NO_BODY_METHODS:
            body, problem = b"", None
        else:
            try:
                body, problem = await read_body(
                    proto, limit=self.max_body_bytes, timeout=self.body_timeout, declared=_declared_length(scope)
                )
            except (ProtocolClosed, ProtocolError):
                # The connection ended mid-body (a half-closed client can still read the answer):
                # a 400, audited on the webhook paths like any other bad request, never a bare 500.
                logger.info("connection ended during the request body (%s %s)", scope.method, scope.path)
                body, problem = b"", INCOMPLETE
        if problem and not scope.path.startswith(WEBHOOK_PATH_PREFIXES):
            status, text = _STATUS_TEXT[problem]
            _answer(proto, status, [("content-type", "application/json"), ("connection", "close")], text)
            return
        environ = build_environ(scope, body, problem)
        loop = asyncio.get_running_loop()
        status, headers, payload = await loop.run_in_executor(self.executor, self._call_django, environ)
        if problem:
            headers.append(("connection", "close"))  # the unread rest of the body must not be parsed as a request
        if isinstance(payload, bytes):
            _answer(proto, status, headers, payload)
        else:
            await self._stream(proto, status, headers, payload)

    def _call_django(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes | Iterator[bytes]]:
        started: dict = {}

        def start_response(status: str, headers, exc_info=None):
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = list(headers)

        result = self.wsgi_app(environ, start_response)
        # A StreamingHttpResponse (/api/stream) is sent as produced; a file (static assets) is read
        # here whole, as before: small, and not worth a thread hop per 4 KiB block.
        if getattr(result, "streaming", False) and getattr(result, "file_to_stream", None) is None:
            return started["status"], started["headers"], result
        try:
            payload = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started["status"], started["headers"], payload

    async def _stream(self, proto, status: int, headers: list[tuple[str, str]], response) -> None:
        """Send a streaming response chunk by chunk. Its iterator blocks between events (SSE), so it
        runs on the stream threads, never on the one Django thread that serves the webhooks."""
        loop = asyncio.get_running_loop()
        if self.stream_executor is None:
            self.stream_executor = ThreadPoolExecutor(self.stream_threads, thread_name_prefix="stream")
            self.close_executor = ThreadPoolExecutor(1, thread_name_prefix="stream-close")
        chunks = iter(response)
        pending = None
        try:
            transport = proto.response_stream(status, headers)
            while True:
                # The thread's own future: cancelling our await does not stop a running `next`.
                pending = self.stream_executor.submit(next, chunks, None)
                chunk = await asyncio.wrap_future(pending)
                if chunk is None:
                    break
                await transport.send_bytes(chunk if isinstance(chunk, bytes) else str(chunk).encode())
        except ProtocolClosed:  # the client went away: stop producing for nobody
            logger.debug("streaming response ended by the client")
        except Exception:
            logger.exception("streaming response failed mid-stream")
        finally:
            # Closing a generator while a thread is inside it fails ("generator already executing")
            # and would leak its subscription: when cancelled mid-`next`, close once that returns.
            if pending is not None and not pending.done():
                pending.add_done_callback(lambda _: self.close_executor.submit(response.close))
            else:
                await loop.run_in_executor(self.close_executor, response.close)


def _answer(proto, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    try:
        proto.response_bytes(status, headers, body)
    except ProtocolClosed:  # the client is gone; its request was handled (and audited) all the same
        logger.info("client gone before the %s answer was sent", status)


def _application() -> EdgeApp:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "optionsengine.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    wsgi_app = get_wsgi_application()
    return EdgeApp(
        wsgi_app, max_body_bytes=settings.WEBHOOK_MAX_BODY_BYTES, body_timeout=settings.HTTP_BODY_TIMEOUT_SECONDS,
        threads=settings.WEB_THREADS, stream_threads=settings.WEB_STREAM_THREADS,
    )


def __getattr__(name: str):
    """`application` is built on first use, so importing this module never sets Django up."""
    if name == "application":
        app = _application()
        globals()["application"] = app
        return app
    raise AttributeError(name)
