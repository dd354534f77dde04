from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from optionsengine.lib import clock


@pytest.fixture(autouse=True)
def _isolated_shared_cache():
    """Every test starts without cached bias states, config or market data (provider breakers
    included) left by an earlier test in a shared Redis; the simulated market's memo is reset."""
    from django.core.cache import cache

    from optionsengine.marketdata.registry import reset_service

    if hasattr(cache, "delete_pattern"):  # django-redis: only our keys, never a flush of a shared db
        for pattern in ("*bias*", "*marketdata*"):
            cache.delete_pattern(pattern)
    else:
        cache.clear()
    reset_service()
    yield


@pytest.fixture
def frozen_now():
    """Freeze the service clock at a known regular-hours moment (Fri 2026-03-13 10:30 New York)."""
    moment = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
    with clock.override(moment):
        yield moment


@pytest.fixture
def post_webhook(client):
    """POST a JSON body (or raw bytes/str) to /webhook and return (response, parsed body)."""

    def post(body, path="/webhook", **extra):
        data = body if isinstance(body, bytes | str) else orjson.dumps(body)
        response = client.post(path, data=data, content_type=extra.pop("content_type", "application/json"), **extra)
        return response, response.json()

    return post


def pytest_sessionfinish(session, exitstatus):
    """Remove this run's SQLite test database and its WAL side files (see settings_test)."""
    import glob
    import os

    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and str(name).endswith(f"test-{os.getpid()}.sqlite3"):
        for path in glob.glob(f"{name}*"):
            os.remove(path)


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres` tests prove PostgreSQL-only locking: skip them on SQLite."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
