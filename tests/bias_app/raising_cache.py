"""A cache backend whose every call raises: proves the bias path never depends on the cache."""

from __future__ import annotations

from django.core.cache.backends.base import BaseCache


class CacheDown(ConnectionError):
    pass


class RaisingCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise CacheDown("cache unavailable")

    add = get = set = touch = delete = clear = has_key = incr = get_many = set_many = delete_many = _down
