"""Best-effort cache for bias reads. The database is the source of truth (SPEC §4).

Every call swallows cache failures: django-redis already degrades a dead Redis to misses, and these
wrappers make the same true for any backend, so a cache fault can slow a read but never fail a
webhook or an entry decision.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# Short TTLs bound how long a lost race (two writers' on-commit updates landing out of order, or a
# config edit made in another process with a per-process cache) can serve an older value.
STATE_TTL_SECONDS = 30
CONFIG_TTL_SECONDS = 30


def state_cache_enabled() -> bool:
    """Cache states only in a cache every process shares (Redis). A per-process local cache would
    let one worker act on a bias another worker has already replaced, for a whole TTL."""
    return bool(settings.REDIS_URL)


def state_key(symbol: str) -> str:
    return f"bias:current:{symbol}"


def config_key(key: str) -> str:
    return f"bias:config:{key}"


def get(key: str) -> Any | None:
    try:
        return cache.get(key)
    except Exception:
        logger.warning("bias cache get failed for %s; reading the database", key, exc_info=True)
        return None


def set(key: str, value: Any, timeout: int) -> None:  # noqa: A001 - mirrors the cache API
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("bias cache set failed for %s", key, exc_info=True)


def add(key: str, value: Any, timeout: int) -> None:
    try:
        cache.add(key, value, timeout)
    except Exception:
        logger.warning("bias cache add failed for %s", key, exc_info=True)


def delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.warning("bias cache delete failed for %s", key, exc_info=True)


def publish_state(symbol: str, state: dict) -> None:
    """After commit: cache the new state unless the cache already holds a newer one.

    Not atomic, but narrows the window in which a slower writer's older state could overwrite a
    newer one; the TTL bounds what remains.
    """
    if not state_cache_enabled():
        return
    key = state_key(symbol)
    cached = get(key)
    if isinstance(cached, dict) and cached.get("updatedAtMs", 0) > state["updatedAtMs"]:
        return
    set(key, state, STATE_TTL_SECONDS)
