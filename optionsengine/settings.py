"""optionsengine settings: one env-driven module (django-environ).

Embedded default (no env vars): SQLite file under var/, local-memory cache, django-q2 ORM broker,
simulated market. Scaled mode: DATABASE_URL=postgres://…, REDIS_URL=redis://…
Bad configuration raises ImproperlyConfigured at start-up naming the variable to set.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from optionsengine.lib.clock import ClockConfigError, parse_frozen_now

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # embedded-mode state: SQLite file, generated secret key

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)  # the OS environment wins


def _bool(name: str, default: bool) -> bool:
    """Strict booleans: a typo must fail start-up, not silently flip a trading switch."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; set it to true or false")


def _choice(name: str, default: str, allowed: set[str]) -> str:
    value = env.str(name, default=default).strip()
    if value not in allowed:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {sorted(allowed)}")
    return value


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.str(name, default="")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} must be a number") from exc
    if value <= minimum:
        raise ImproperlyConfigured(f"{name}={value} must be > {minimum}")
    return value


def _int(name: str, default: int, minimum: int = 0) -> int:
    try:
        value = env.int(name, default=default)
    except (ValueError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be >= {minimum}")
    return value


# --- Core -----------------------------------------------------------------------------------
DEBUG = _bool("DEBUG", False)
EMBEDDED = not env.str("DATABASE_URL", default="")


def _embedded_secret_key() -> str:
    """Embedded mode keeps a generated key in var/ so web and workers (which sign tasks) agree."""
    VAR_DIR.mkdir(exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not EMBEDDED:
        raise ImproperlyConfigured("SECRET_KEY is required when DATABASE_URL is set (scaled mode)")
    SECRET_KEY = _embedded_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"] if EMBEDDED or DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in scaled mode, e.g. ALLOWED_HOSTS=hooks.example.com")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",  # OpenAPI schema at /api/schema/ (optionsengine/api)
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served locally: /api/docs/ works offline
    "django_q",
    "optionsengine",
    "signals_app",
    "orders_app",
    "positions_app",
    "bias_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # admin/pages assets under gunicorn, no nginx needed
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "optionsengine.urls"
WSGI_APPLICATION = "optionsengine.wsgi.application"
APPEND_SLASH = False  # /webhook and /webhook/ are both routed explicitly; never redirect a POST

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLITE_PATH moves the embedded database file (relative paths are from the project dir); the
# demo runs on its own file (`make demo` uses var/demo.sqlite3) so it never touches real data.
SQLITE_PATH = BASE_DIR / env.str("SQLITE_PATH", default=str(VAR_DIR / "optionsengine.sqlite3"))
if EMBEDDED:
    VAR_DIR.mkdir(exist_ok=True)
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": env.db_url_config(f"sqlite:///{SQLITE_PATH}")}
else:
    try:
        DATABASES = {"default": env.db("DATABASE_URL")}
    except (ImproperlyConfigured, KeyError, ValueError) as exc:
        raise ImproperlyConfigured(
            "DATABASE_URL must look like postgres://user:pass@host:5432/dbname"
        ) from exc

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: a write transaction takes the write lock at BEGIN, so two writers queue on the
    # busy timeout instead of one failing mid-transaction; this also serializes the duplicate check.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = _int("CONN_MAX_AGE", 60)
    # Off by default: a health check is a `SELECT 1` round trip on every request. The webhook
    # instead retries once on a fresh connection when a reused one turns out dead (see
    # optionsengine/pipeline/ingest.py); other pages fail once and Django drops the connection.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = _bool("CONN_HEALTH_CHECKS", False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis optional) -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must look like redis://host:6379/0")
    CACHES = {
        "default": {
            # Redis is a cache here, never a source of truth: a dead or hung Redis degrades to
            # misses, and the breaker makes that cost one short timeout per interval, not per call.
            "BACKEND": "optionsengine.lib.redis_cache.BreakerRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "optionsengine",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": _float("REDIS_TIMEOUT_SECONDS", 0.2),
                "SOCKET_TIMEOUT": _float("REDIS_TIMEOUT_SECONDS", 0.2),
                "BREAKER_SECONDS": _float("REDIS_BREAKER_SECONDS", 30.0),
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Workers (django-q2) --------------------------------------------------------------------
QUEUE_BROKER = _choice("QUEUE_BROKER", "orm", {"orm", "redis"})
if QUEUE_BROKER == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("QUEUE_BROKER=redis needs REDIS_URL")
# SQLite has one writer: the ORM broker there must run one worker ("database is locked" otherwise).
_Q_WORKERS = 1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else _int("Q_WORKERS", 4, minimum=1)
Q_CLUSTER = {
    "name": "optionsengine",
    "workers": _Q_WORKERS,
    "recycle": 500,
    "timeout": 60,  # must stay below `retry` or a slow task is redelivered and runs twice
    "retry": 120,
    "max_attempts": 1,  # stages are idempotent sweeps; a failed run is retried by the schedule
    "ack_failures": True,
    "catch_up": False,  # never replay missed ticks after downtime
    "save_limit": 200,
    "queue_limit": 2 * _Q_WORKERS,  # tasks held in memory; time spent queued counts against `retry`
    "bulk": 1,
    # ORM broker: the pusher sleeps this long whenever it finds the queue empty, and it finds it
    # empty right after handing over each task, so every fast-path hop (orchestrator → order creator
    # → executor) waited ~one poll: 0.2 s gave a 612 ms webhook→fill p50 embedded, 0.05 s 282 ms
    # (bench/latency.py); 0.02 s brought the embedded p50 to 248 ms. Cost: ~50 cheap queue reads/s
    # per idle qcluster. (Redis broker: BLPOP, no polling.)
    "poll": _float("Q_POLL_SECONDS", 0.02),
    "time_zone": "America/New_York",
}
if QUEUE_BROKER == "redis":
    # Its own connection, not the cache's: the broker waits on BLPOP for 1 s when the queue is
    # idle, and the cache's 0.5 s socket timeout made every idle wait raise, after which django-q2's
    # pusher sleeps 10 s before it is restarted — fast-path tasks then waited up to ~10 s.
    # The socket timeout stays above the 1 s BLPOP so a dead Redis still fails rather than hangs.
    _sep = "&" if "?" in REDIS_URL else "?"
    Q_CLUSTER["redis"] = f"{REDIS_URL}{_sep}socket_timeout=5&socket_connect_timeout=2&health_check_interval=30"
else:
    Q_CLUSTER["orm"] = "default"

# --- Workers and cron (SPEC §12–§13; docs/operations.md) -----------------------------------------
# A stage that commits work for a row enqueues the next stage's task on commit (off: sweeps only).
PIPELINE_FAST_PATH = _bool("PIPELINE_FAST_PATH", True)
# POST /api/cron/process-queue answers 503 until CRON_SECRET is set; false = answer "skip" (workers run).
CRON_SECRET = env.str("CRON_SECRET", default="")
ENABLE_CRON_PROCESSING = _bool("ENABLE_CRON_PROCESSING", True)
# Where replay_webhooks / validate_e2e send by default (a running `make run`).
BACKEND_URL = (env.str("BACKEND_URL", default="") or f"http://127.0.0.1:{_int('PORT', 8000, minimum=1)}").rstrip("/")

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "optionsengine.lib.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Per client address (REMOTE_ADDR; set NUM_PROXIES behind a reverse proxy): token logins, and
    # webhook requests that fail authentication (valid ones are never throttled).
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN_RATE", default="10/min"),
        "webhook_invalid_signature": env.str("THROTTLE_INVALID_SIGNATURE_RATE", default="30/min"),
    },
    "NUM_PROXIES": _int("NUM_PROXIES", 0),  # 0: REMOTE_ADDR only, X-Forwarded-For cannot be spoofed
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "optionsengine API",
    "DESCRIPTION": "Operator API: signals, orders, trades, positions, monitoring, trace, bias (docs/operations.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EngineEnum": "optionsengine.lib.fields.Engine",
        "SignalStatusEnum": "signals_app.models.SignalStatus",
        "WebhookEventStatusEnum": "signals_app.models.WebhookEventStatus",
        "OrderStatusEnum": "orders_app.models.OrderStatus",
        "PositionStatusEnum": "positions_app.models.PositionStatus",
    },
}

# --- Time -----------------------------------------------------------------------------------
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False
MARKET_TIME_ZONE = "America/New_York"
try:  # parsed here only to fail at start-up on a bad value; clock.now() reads the variable itself
    parse_frozen_now(env.str("OPTIONSENGINE_NOW", default=""))
except ClockConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None  # set it only if you run collectstatic
WHITENOISE_USE_FINDERS = True  # serve straight from the apps: no collectstatic step to forget

# --- Webhook ingestion (SPEC §3) ------------------------------------------------------------
WEBHOOK_SECRET = env.str("WEBHOOK_SECRET", default="") or env.str("HMAC_SECRET", default="")
# on: a secret is required (the default in scaled mode); off: the webhook is deliberately open
# (logged loudly at start-up). Unset: on in scaled mode, on in embedded mode only if a secret is set.
WEBHOOK_AUTH = _choice("WEBHOOK_AUTH", "", {"", "on", "off"})
if WEBHOOK_AUTH == "off":
    WEBHOOK_SECRET = ""
elif not WEBHOOK_SECRET and (WEBHOOK_AUTH == "on" or not EMBEDDED):
    raise ImproperlyConfigured(
        "WEBHOOK_SECRET is required when DATABASE_URL is set (scaled mode) or WEBHOOK_AUTH=on; "
        "set WEBHOOK_AUTH=off to run an open webhook deliberately"
    )
WEBHOOK_AUTH_EXPLICITLY_OFF = WEBHOOK_AUTH == "off"
# Standard Webhooks headers (webhook-id/-timestamp/-signature): signed timestamp tolerance.
WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = _int("WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS", 300, minimum=1)
DUPLICATE_WINDOW_SECONDS = _int("DUPLICATE_WINDOW_SECONDS", 60)
WEBHOOK_MAX_BODY_BYTES = 128 * 1024
WEBHOOK_AUDIT_MAX_PAYLOAD_BYTES = 32 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES + 1024  # the view answers 413 itself

# --- HTTP edge (optionsengine/edge.py under granian, bin/serve) --------------------------------
# A request body must arrive whole within this many seconds (TradingView sends ~2 KB at once);
# a stalled upload is cut off on the event loop and never reaches a Django thread.
HTTP_BODY_TIMEOUT_SECONDS = _float("HTTP_BODY_TIMEOUT_SECONDS", 10.0)
WEB_THREADS = _int("WEB_THREADS", 1, minimum=1)  # Django threads per web worker process
# Threads per web worker that feed streaming responses (/api/stream): open streams served at once.
WEB_STREAM_THREADS = _int("WEB_STREAM_THREADS", 32, minimum=1)

# --- Bias gates (SPEC §4, §6) ---------------------------------------------------------------
REQUIRE_MTF_BIAS_FOR_ENTRY = _bool("REQUIRE_MTF_BIAS_FOR_ENTRY", True)

# --- Trading mode ---------------------------------------------------------------------------
APP_MODE = env.str("APP_MODE", default="PAPER").strip().upper()
if APP_MODE == "LIVE":
    raise ImproperlyConfigured("APP_MODE=LIVE is not supported: this service paper-trades only")
if APP_MODE not in {"PAPER", "SHADOW"}:
    raise ImproperlyConfigured(f"APP_MODE={APP_MODE!r} must be PAPER or SHADOW")

# --- Orchestrator (SPEC §6) -----------------------------------------------------------------
def _percent(name: str, default: float) -> float:
    raw = env.str(name, default="")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} must be a number from 0 to 100") from exc
    if not 0 <= value <= 100:
        raise ImproperlyConfigured(f"{name}={value} must be a percentage from 0 to 100")
    return value


ENABLE_ORCHESTRATOR = _bool("ENABLE_ORCHESTRATOR", True)  # false: the seed's simple processor
E2E_TEST_MODE = _bool("E2E_TEST_MODE", False)  # every signal is test traffic; tuner dry-runs only
INSTANCE_ID = env.str("INSTANCE_ID", default="") or f"{__import__('socket').gethostname()}"
ORCHESTRATOR_BATCH_SIZE = _int("ORCHESTRATOR_BATCH_SIZE", 20, minimum=1)
ORCHESTRATOR_SIGNAL_TIMEOUT_MS = _int("ORCHESTRATOR_SIGNAL_TIMEOUT_MS", 30_000, minimum=1_000)
ORCHESTRATOR_RETRY_DELAY_MS = _int("ORCHESTRATOR_RETRY_DELAY_MS", 60_000, minimum=1_000)
ORCHESTRATOR_MAX_ATTEMPTS = _int("ORCHESTRATOR_MAX_ATTEMPTS", 3, minimum=1)
LOCK_STALENESS_MINUTES = _int("LOCK_STALENESS_MINUTES", 5, minimum=1)
SIGNAL_MAX_AGE_MINUTES = _int("SIGNAL_MAX_AGE_MINUTES", 30, minimum=1)
MARKET_CLOSED_BEHAVIOR = _choice("MARKET_CLOSED_BEHAVIOR", "queue", {"queue", "reject", "decision_only"})
RISK_DEFER_SECONDS = _int("RISK_DEFER_SECONDS", 60, minimum=1)
ENTRY_WAIT_DELAY_SECONDS = _int("ENTRY_WAIT_DELAY_SECONDS", 300, minimum=1)
ENTRY_WAIT_MAX_ATTEMPTS = _int("ENTRY_WAIT_MAX_ATTEMPTS", 3, minimum=1)
AB_SPLIT_PERCENTAGE = _percent("AB_SPLIT_PERCENTAGE", 0)  # % of signals routed to Engine B
MAX_CONTRACTS_PER_TRADE = _int("MAX_CONTRACTS_PER_TRADE", 10, minimum=1)
CONFLUENCE_MIN_THRESHOLD = _percent("CONFLUENCE_MIN_THRESHOLD", 50)
ENABLE_CONFLUENCE_GATE = _bool("ENABLE_CONFLUENCE_GATE", True)
ENABLE_PORTFOLIO_GUARD = _bool("ENABLE_PORTFOLIO_GUARD", True)

# --- Orders, fills, exits (SPEC §7–§11) -------------------------------------------------------
ORDER_CREATE_MAX_ATTEMPTS = _int("ORDER_CREATE_MAX_ATTEMPTS", 3, minimum=1)
ENABLE_SAME_STRIKE_COOLDOWN = _bool("ENABLE_SAME_STRIKE_COOLDOWN", True)
COOLDOWN_MINUTES_SAME_STRIKE = _int("COOLDOWN_MINUTES_SAME_STRIKE", 15)
ORDER_EXPIRATION_MINUTES = _int("ORDER_EXPIRATION_MINUTES", 30, minimum=1)
PAPER_SLIPPAGE_FRACTION = _float("PAPER_SLIPPAGE_FRACTION", 0.25, minimum=-0.000001)
if PAPER_SLIPPAGE_FRACTION > 1:
    raise ImproperlyConfigured(f"PAPER_SLIPPAGE_FRACTION={PAPER_SLIPPAGE_FRACTION} must be between 0 and 1")
EMERGENCY_RISK_OFF = _bool("EMERGENCY_RISK_OFF", False)
# `bias_trade_performance.source` of real (non-test) trades: `replay` for a replayed session (the
# demo sets it) so only live trading feeds the adaptive tuner.
TRADE_PERFORMANCE_SOURCE = _choice("TRADE_PERFORMANCE_SOURCE", "live", {"live", "replay"})

# --- Market data (SPEC §5) ------------------------------------------------------------------
MARKET_DATA_PROVIDER_NAMES = {"simulated", "fixture", "alpaca", "twelvedata", "marketdata", "polygon"}
MARKET_DATA_PROVIDERS = [p.strip().lower() for p in env.list("MARKET_DATA_PROVIDERS", default=["simulated"]) if p.strip()]
_unknown = [p for p in MARKET_DATA_PROVIDERS if p not in MARKET_DATA_PROVIDER_NAMES]
if _unknown or not MARKET_DATA_PROVIDERS:
    raise ImproperlyConfigured(
        f"MARKET_DATA_PROVIDERS has unknown entries {_unknown}; use a comma list of "
        f"{sorted(MARKET_DATA_PROVIDER_NAMES)}"
    )
MARKET_DATA_FIXTURE = env.str("MARKET_DATA_FIXTURE", default="")
if "fixture" in MARKET_DATA_PROVIDERS and not Path(MARKET_DATA_FIXTURE).is_file():
    raise ImproperlyConfigured(
        f"MARKET_DATA_PROVIDERS includes fixture: set MARKET_DATA_FIXTURE to an existing JSON file (got {MARKET_DATA_FIXTURE!r})"
    )
SIMULATED_MARKET_SEED = _int("SIMULATED_MARKET_SEED", 7)
ALPACA_API_KEY = env.str("ALPACA_API_KEY", default="")
ALPACA_SECRET_KEY = env.str("ALPACA_SECRET_KEY", default="")
TWELVEDATA_API_KEY = env.str("TWELVEDATA_API_KEY", default="")
MARKETDATA_API_KEY = env.str("MARKETDATA_API_KEY", default="")
POLYGON_API_KEY = env.str("POLYGON_API_KEY", default="")
_PROVIDER_KEYS = {
    "alpaca": ("ALPACA_API_KEY", "ALPACA_SECRET_KEY"),
    "twelvedata": ("TWELVEDATA_API_KEY",),
    "marketdata": ("MARKETDATA_API_KEY",),
    "polygon": ("POLYGON_API_KEY",),
}
for _provider in MARKET_DATA_PROVIDERS:
    for _key in _PROVIDER_KEYS.get(_provider, ()):
        if not globals()[_key]:
            raise ImproperlyConfigured(f"MARKET_DATA_PROVIDERS includes {_provider}: set {_key}")
MARKET_DATA_TIMEOUT_SECONDS = _float("MARKET_DATA_TIMEOUT_SECONDS", 5.0)
ALPACA_DATA_FEED = env.str("ALPACA_DATA_FEED", default="iex")  # iex (free) or sip
ALPACA_OPTIONS_FEED = env.str("ALPACA_OPTIONS_FEED", default="indicative")  # indicative (free) or opra
MARKETDATA_BASE_URL = env.str("MARKETDATA_BASE_URL", default="") or None  # None: the provider's default
POLYGON_BASE_URL = env.str("POLYGON_BASE_URL", default="") or None

# --- Realtime stream and metrics (SPEC §13; docs/operations.md) ------------------------------
# /api/stream fans out through Redis pub/sub on this channel when REDIS_URL is set (channels are
# server-wide, not per Redis database: give each deployment sharing a Redis its own name).
REALTIME_CHANNEL = env.str("REALTIME_CHANNEL", default="optionsengine:realtime")
REALTIME_HEARTBEAT_SECONDS = _float("REALTIME_HEARTBEAT_SECONDS", 15.0)
REALTIME_MAX_STREAM_SECONDS = _float("REALTIME_MAX_STREAM_SECONDS", 300.0)
# prometheus_client reads PROMETHEUS_MULTIPROC_DIR itself at import; checked here so a typo fails
# start-up instead of every metric write.
_PROMETHEUS_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if _PROMETHEUS_DIR and not Path(_PROMETHEUS_DIR).is_dir():
    raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR={_PROMETHEUS_DIR!r} must be an existing, empty directory")
MIDDLEWARE = ["optionsengine.observability.middleware.RequestMetricsMiddleware", *MIDDLEWARE]

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "optionsengine.lib.logfilters.RedactSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": _choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})},
    "loggers": {
        "django_q": {"level": "WARNING"},
        "django-q": {"level": "WARNING"},  # django-q2 logs "Enqueued" at INFO under this name, per task
        # httpx logs every request URL at INFO, and some providers take their key in the query.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # runserver's request lines go through here; route them via the redacting handler
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
