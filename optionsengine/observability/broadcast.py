"""The realtime transport behind `pipeline.events.publish` and `GET /api/stream`.

Two interchangeable back ends, chosen by `REDIS_URL`:
- **Redis pub/sub** (scaled mode): `send` PUBLISHes on `REALTIME_CHANNEL`; every stream holds
  its own SUBSCRIBE connection, so an event from any web or worker process on any machine reaches
  every connected client.
- **In-process hub** (embedded mode): `send` hands the event to the streams of *this* process
  only. Events published by a separate `qcluster` process do not reach them; use Redis for that.

Events are serialized once, at `send`, as the JSON text `{"type": …, "data": …}` (Decimals as
strings). Delivery is best effort and never raises into the caller: a fill must not fail because
a dashboard is slow or Redis is down. A stream that falls `MAX_BUFFERED` events behind loses the
oldest overflow (counted), it never blocks the publisher.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import orjson
from django.conf import settings

from optionsengine.lib.jsonresponse import orjson_default
from optionsengine.observability import metrics

logger = logging.getLogger(__name__)

MAX_BUFFERED = 1000


@dataclass(frozen=True)
class Event:
    type: str
    json: str  # {"type": …, "data": …}


class Subscription(Protocol):
    def get(self, timeout: float) -> Event | None: ...
    def close(self) -> None: ...


class TransportUnavailable(RuntimeError):
    """The configured transport cannot take a new subscriber (Redis unreachable)."""


def encode(event_type: str, payload: dict) -> str:
    return orjson.dumps({"type": event_type, "data": payload}, default=orjson_default).decode()


def decode(raw: bytes | str) -> Event:
    body = orjson.loads(raw)
    return Event(type=str(body.get("type", "message")), json=raw.decode() if isinstance(raw, bytes) else raw)


# --- in-process hub --------------------------------------------------------------------------
class _LocalSubscription:
    def __init__(self, hub: LocalHub) -> None:
        self._hub = hub
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=MAX_BUFFERED)

    def offer(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            metrics.EVENTS_DROPPED.inc()

    def get(self, timeout: float) -> Event | None:
        try:
            return self._queue.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    def close(self) -> None:
        self._hub.unsubscribe(self)


class LocalHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[_LocalSubscription] = set()

    def subscribe(self) -> _LocalSubscription:
        subscription = _LocalSubscription(self)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: _LocalSubscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.offer(event)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)


local_hub = LocalHub()


# --- Redis pub/sub ----------------------------------------------------------------------------
_client = None
_client_lock = threading.Lock()


def _redis():
    """One client (connection pool) per process, created on first use."""
    global _client
    with _client_lock:
        if _client is None:
            import redis

            _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
        return _client


class _RedisSubscription:
    def __init__(self, channel: str) -> None:
        self._pubsub = _redis().pubsub()
        try:
            self._pubsub.subscribe(channel)
            # Wait for Redis to confirm: from here on no event published to the channel is missed.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                message = self._pubsub.get_message(timeout=deadline - time.monotonic())
                if message and message["type"] == "subscribe":
                    return
            raise TransportUnavailable("Redis did not confirm the subscription")
        except Exception:
            self._pubsub.close()
            raise

    def get(self, timeout: float) -> Event | None:
        message = self._pubsub.get_message(timeout=max(timeout, 0))
        if not message or message["type"] != "message":
            return None
        try:
            return decode(message["data"])
        except (orjson.JSONDecodeError, AttributeError):
            logger.warning("ignoring a malformed message on %s", settings.REALTIME_CHANNEL)
            return None

    def close(self) -> None:
        try:
            self._pubsub.close()
        except Exception:  # closing a dead connection is not worth a stack trace
            pass


# --- the two calls the rest of the service makes ------------------------------------------------
def transport_name() -> str:
    return "redis" if settings.REDIS_URL else "in-process"


def send(event_type: str, payload: dict) -> None:
    """Deliver one event to every stream (best effort; never raises)."""
    try:
        text = encode(event_type, payload)
        if settings.REDIS_URL:
            _redis().publish(settings.REALTIME_CHANNEL, text)
        else:
            local_hub.publish(Event(type=event_type, json=text))
        metrics.EVENTS_PUBLISHED.labels(event_type).inc()
    except Exception as exc:
        metrics.EVENTS_FAILED.labels(event_type).inc()
        logger.warning("realtime %s not delivered: %s: %s", event_type, type(exc).__name__, exc)


def subscribe() -> Subscription:
    """A new subscription; raises TransportUnavailable when Redis is configured but unreachable."""
    if not settings.REDIS_URL:
        return local_hub.subscribe()
    try:
        return _RedisSubscription(settings.REALTIME_CHANNEL)
    except TransportUnavailable:
        raise
    except Exception as exc:
        raise TransportUnavailable(f"{type(exc).__name__}: {exc}") from exc
