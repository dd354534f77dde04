"""Test settings: the real settings plus test-only overrides.

Still honours DATABASE_URL / REDIS_URL so CI runs the same suite on PostgreSQL + Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("WEBHOOK_AUTH", "off")  # tests turn auth on per test with WEBHOOK_SECRET
os.environ.pop("OPTIONSENGINE_NOW", None)  # tests control the clock themselves

from optionsengine.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
WEBHOOK_SECRET = ""
MARKET_DATA_PROVIDERS = ["simulated"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file (not :memory:) so threads in concurrency tests share it; per process so parallel
    # test runs on one checkout never collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
# Stage tests assert what one stage leaves behind; with django-q2 in sync mode the fast path would
# run the next stages inline. Tests of the fast path itself turn it back on.
PIPELINE_FAST_PATH = False
# Throttling is exercised by its own tests (tests/test_edge_hardening.py) with low rates.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "10000/min", "webhook_invalid_signature": "10000/min"}}  # noqa: F405
