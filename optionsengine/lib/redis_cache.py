"""django-redis with a circuit breaker: a dead or hung Redis costs one short timeout per interval.

Redis is only a cache here (SPEC §4: the database is the source of truth). django-redis alone, with
IGNORE_EXCEPTIONS, turns each failure into a miss but pays the socket timeout on *every* call, and
one bias request makes several calls. Here the first failure opens the breaker for
`BREAKER_SECONDS` (per process): until then every call answers like a miss at once (get → default,
set/add/delete → False), then one call probes Redis again. State changes are logged.
"""

from __future__ import annotations

import logging
import threading
import time

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

FAILURES = (ConnectionInterrupted, RedisError, OSError)


class BreakerRedisCache(RedisCache):
    def __init__(self, server, params):
        options = params.get("OPTIONS", {})
        self.breaker_seconds = float(options.pop("BREAKER_SECONDS", 30))
        super().__init__(server, params)
        self._ignore_exceptions = False  # the breaker decides; django-redis must raise to tell it
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def breaker_open(self) -> bool:
        return time.monotonic() < self._open_until

    def _call(self, name: str, miss, *args, **kwargs):
        if time.monotonic() < self._open_until:
            return miss(*args, **kwargs) if callable(miss) else miss
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except FAILURES as exc:
            with self._lock:
                was_closed = time.monotonic() >= self._open_until
                self._open_until = time.monotonic() + self.breaker_seconds
            if was_closed:
                logger.warning("redis cache unavailable (%s: %s): breaker open for %.0f s, serving misses",
                               type(exc).__name__, exc, self.breaker_seconds)
            return miss(*args, **kwargs) if callable(miss) else miss
        if self._open_until:
            with self._lock:
                if self._open_until:
                    self._open_until = 0.0
                    logger.warning("redis cache reachable again: breaker closed")
        return result

    def get(self, key, default=None, version=None, client=None):
        return self._call("get", default, key, default=default, version=version, client=client)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", {}, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", False, *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", False, *args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", False, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", False, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", False, *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", [], *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", 0, *args, **kwargs)

    def clear(self, *args, **kwargs):
        return self._call("clear", False, *args, **kwargs)

    def incr(self, key, delta=1, version=None, client=None, ignore_key_check=False):
        def unavailable(*_args, **_kwargs):
            raise ValueError(f"Key {key!r} not found (cache unavailable)")

        return self._call("incr", unavailable, key, delta=delta, version=version, client=client, ignore_key_check=ignore_key_check)

    def decr(self, key, delta=1, version=None, client=None, ignore_key_check=False):
        def unavailable(*_args, **_kwargs):
            raise ValueError(f"Key {key!r} not found (cache unavailable)")

        return self._call("decr", unavailable, key, delta=delta, version=version, client=client, ignore_key_check=ignore_key_check)
