"""Settings for the brand-test backend, driven by environment variables.

Development defaults are safe and need nothing installed (SQLite, the offline demo platform, the
database task backend). Production sets DJANGO_SECRET_KEY, DATABASE_URL and DJANGO_ALLOWED_HOSTS.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from records.engine.config import platform_configs

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BRANDTEST_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable (1/true/yes/on)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable, failing loudly on junk."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    """Read a float environment variable, failing loudly on junk."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Never used when DJANGO_SECRET_KEY is set; the "django-insecure-" prefix makes
# `check --deploy` flag it (security.W009) should it ever reach a server.
DEVELOPMENT_SECRET_KEY = "django-insecure-brandtest-development-key-never-use-in-production"


def _secret_key() -> str:
    """The key from the environment, else the development key (reading settings writes nothing)."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    if env_bool("DJANGO_REQUIRE_SECRET_KEY"):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
    return DEVELOPMENT_SECRET_KEY


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    # Refresh tokens are single use: /api/refresh-token blacklists the one it rotates.
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_extensions",
    "django_tasks_db",
    "records",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response (the HTML ones: admin, API docs).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

# --- HTTPS (production: behind a TLS-terminating proxy; README "Production") ----------------
# Off by default so `make run` works over plain http://127.0.0.1; the documented production
# environment sets them, and `manage.py check --deploy` is then clean.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD")
# The proxy sets this header to "https" on requests that came over TLS (and strips a
# client-sent one); only then may Django trust it. Empty: not behind such a proxy.
_PROXY_SSL_HEADER = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    (f"HTTP_{_PROXY_SSL_HEADER.upper().replace('-', '_')}", "https") if _PROXY_SSL_HEADER else None
)
# The admin and the Swagger UI load their scripts and styles from this origin (the UI assets
# ship in drf-spectacular-sidecar); inline style attributes (admin progress bars) are allowed,
# inline scripts are not.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

ROOT_URLCONF = "brandtest.urls"
WSGI_APPLICATION = "brandtest.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Database: SQLite file by default; DATABASE_URL=postgres://... for production.
SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        # Persistent connections: a connect per request costs ~0.3 ms (SQLite), ~4 ms (PostgreSQL);
        # measured better than Django's psycopg pool (+0.1 ms a request) (docs/benchmarks.md).
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        # Off: on PostgreSQL the check is a SELECT 1 round trip before every request's first
        # query (+0.17 ms on a 0.23 ms poll). Without it a connection broken by a database
        # restart fails one request, then Django drops it and the next request reconnects.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
    )
}
# PostgreSQL: the polls' and the results document's reads are server-side prepared statements
# (records.reads.hot_fetch: planned once per connection, not per request; -90 µs a poll,
# docs/benchmarks.md). Django's own cursors bind on the client and never prepare, whatever the
# threshold. DB_PREPARED_HOT_READS=0 behind a transaction-mode pooler that cannot keep prepared
# statements (PgBouncer before 1.21, or without max_prepared_statements).
BRANDTEST_PREPARED_HOT_READS = env_bool("DB_PREPARED_HOT_READS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        5 if BRANDTEST_PREPARED_HOT_READS else None
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock up front, so concurrent writers wait (busy timeout) instead of
        # failing with "database is locked" on a read-to-write upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=134217728;PRAGMA cache_size=-20000"
        ),
    }
    # Tests use a file too: an in-memory database's shared cache locks whole tables between
    # threads, unlike the WAL file the service runs on.
    # One file per test process, so concurrent runs never share (and delete) each other's.
    # The test run creates VAR_DIR (tests/conftest.py); importing settings writes nothing.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db_{os.getpid()}.sqlite3")}
else:
    # One test database per test process here too (concurrent runs on one server).
    DATABASES["default"]["TEST"] = {"NAME": f"test_brandtest_{os.getpid()}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve static files from the app directories when collectstatic has not run (development).
WHITENOISE_USE_FINDERS = True

# Background tasks: django.tasks API; the database backend needs nothing installed.
TASK_BACKEND = os.environ.get("TASK_BACKEND", "db")
if TASK_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
elif TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {
        "default": {
            "URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": env_int("RQ_JOB_TIMEOUT", 3600),
        }
    }
elif TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured(f"TASK_BACKEND must be db, rq or immediate, got {TASK_BACKEND!r}")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Authorization: Bearer <access token> from /api/login or /api/refresh-token. First, so
        # a bad token is answered 401 with WWW-Authenticate: Bearer (v1 only; see legacy/auth).
        # Cached per process (records/authentication.py): the poll's cost with and without.
        "records.authentication.CachedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "records.authentication.CachedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "records.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    # JSON nested at most records.parsers.MAX_JSON_DEPTH deep (deeper: 400, not a 500).
    "DEFAULT_PARSER_CLASSES": [
        "records.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "records.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    # Counts brand-test starts only (v1 create and retry, legacy start), per caller and per
    # address, in the database (exact across processes); polls are never throttled.
    "DEFAULT_THROTTLE_CLASSES": [
        "records.throttles.StartThrottle",
    ],
    # "<n>/<second|minute|hour|day>"; an empty variable turns that throttle off.
    "DEFAULT_THROTTLE_RATES": {
        "start_caller": os.environ.get("BRANDTEST_START_RATE", "20/hour") or None,
        "start_ip": os.environ.get("BRANDTEST_START_IP_RATE", "200/hour") or None,
        "login": os.environ.get("BRANDTEST_LOGIN_RATE", "30/minute") or None,
    },
    # Clients are told apart by REMOTE_ADDR unless this many trusted proxies append
    # X-Forwarded-For (0: never trust the header, which a client can forge).
    "NUM_PROXIES": env_int("BRANDTEST_NUM_PROXIES", 0),
}

SIMPLE_JWT = {
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Longer than any run: an access token that expires mid-run would make the run's owner
    # anonymous on the legacy poll (which never answers 401) and so hide the run from them.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 24 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_TOKEN_DAYS", 30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}

# Cache: per-process memory by default, Redis when set. (The rate limits do not use it: their
# counts are rows in the database, shared by every process; records/throttles.py.)
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "brandtest",
        }
    }
elif CACHE_URL in ("", "locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # The URL may carry a password: name only its scheme.
    raise ImproperlyConfigured(
        f"CACHE_URL must be redis://, rediss://, unix:// or locmem://, "
        f"not {CACHE_URL.partition(':')[0]}:"
    )

# WeChat mini-program login (jscode2session); tests point the base URL at a local fake.
WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "")
WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "")
WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_TIMEOUT = env_float("WECHAT_TIMEOUT", 5.0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Brand diagnosis API",
    "DESCRIPTION": (
        "Asks AI assistants buyer questions about a market and measures how visible a brand is "
        "in their answers."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Offline docs: the UI assets ship in drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name for the access modes wherever they appear (a run's, a platform's list).
    "ENUM_NAME_OVERRIDES": {"AccessModeEnum": "records.engine.base.ACCESS_MODES"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Never log request bodies or headers from the HTTP client (they carry API keys).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # WeasyPrint (PDF reports) logs each layout step at INFO and warns about the charts'
        # repeated SVG ids; its errors still show.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- The brand-test engine -------------------------------------------------------------------
# The offline demo platform: synthetic answers, labelled as such; never chosen by default.
BRANDTEST_DEMO_ENABLED = env_bool("BRANDTEST_DEMO_ENABLED", True)
BRANDTEST_DEMO_LATENCY_MS = env_int("BRANDTEST_DEMO_LATENCY_MS", 300)
# Repeats per (question, platform) cell when a caller does not say (the legacy API never does).
BRANDTEST_DEFAULT_REPEATS = env_int("BRANDTEST_DEFAULT_REPEATS", 1)
BRANDTEST_MAX_REPEATS = env_int("BRANDTEST_MAX_REPEATS", 5)
# The access mode of a v1 run or monitor whose request names none: "plain" (web search off) or
# "search" (a platform without search then refuses the run). The legacy API is always plain.
BRANDTEST_DEFAULT_ACCESS_MODE = os.environ.get("BRANDTEST_DEFAULT_ACCESS_MODE", "plain").strip()
if BRANDTEST_DEFAULT_ACCESS_MODE not in ("plain", "search"):
    raise ImproperlyConfigured("BRANDTEST_DEFAULT_ACCESS_MODE must be plain or search.")
# Concurrency of one execution's calls: overall and per platform.
BRANDTEST_GLOBAL_CONCURRENCY = env_int("BRANDTEST_GLOBAL_CONCURRENCY", 8)
BRANDTEST_PLATFORM_CONCURRENCY = env_int("BRANDTEST_PLATFORM_CONCURRENCY", 3)
BRANDTEST_CALL_TIMEOUT = env_float("BRANDTEST_CALL_TIMEOUT", 60.0)
BRANDTEST_MAX_RETRIES = env_int("BRANDTEST_MAX_RETRIES", 3)
# Exponential backoff with full jitter: the n-th retry waits up to base * 2**(n-1), capped.
BRANDTEST_RETRY_BASE_DELAY = env_float("BRANDTEST_RETRY_BASE_DELAY", 0.5)
BRANDTEST_RETRY_MAX_DELAY = env_float("BRANDTEST_RETRY_MAX_DELAY", 20.0)
# A running execution whose heartbeat is older than this is considered lost (reap_stale).
BRANDTEST_STALE_AFTER = env_int("BRANDTEST_STALE_AFTER", 300)
# On SIGTERM a worker starts no new call and waits this long for the calls in flight, stores
# what returned and hands the run back to the queue (docs/operations.md).
BRANDTEST_SHUTDOWN_GRACE = env_float("BRANDTEST_SHUTDOWN_GRACE", 20.0)
# A run whose worker vanished is resumed (only its missing calls asked) this many times; the
# next loss fails it as worker_lost.
BRANDTEST_MAX_RESUMES = env_int("BRANDTEST_MAX_RESUMES", 3)
# Suggested client poll interval while a run is active (Retry-After / next_poll_ms).
BRANDTEST_POLL_INTERVAL_MS = env_int("BRANDTEST_POLL_INTERVAL_MS", 1000)
# How often every worker ticks the monitor scheduler, in seconds (manage.py worker).
BRANDTEST_SCHEDULER_INTERVAL = env_int("BRANDTEST_SCHEDULER_INTERVAL", 15)
# Due monitors one scheduler tick claims at most; the rest wait for the next tick.
BRANDTEST_SCHEDULER_BATCH = env_int("BRANDTEST_SCHEDULER_BATCH", 200)
# Prices per platform for the ESTIMATED spend of runs and monitors: per 1M input (prompt) and
# output (completion) tokens. These are EXAMPLES, not the platforms' real prices: set your own
# (JSON in BRANDTEST_PLATFORM_PRICES, same shape). The demo platform costs nothing.
_EXAMPLE_PLATFORM_PRICES = {
    "deepseek": {"input_per_1m": 2.0, "output_per_1m": 8.0, "currency": "CNY"},
    "doubao": {"input_per_1m": 0.8, "output_per_1m": 2.0, "currency": "CNY"},
    "qwen": {"input_per_1m": 0.8, "output_per_1m": 2.0, "currency": "CNY"},
    "kimi": {"input_per_1m": 4.0, "output_per_1m": 16.0, "currency": "CNY"},
    "zhipu": {"input_per_1m": 5.0, "output_per_1m": 5.0, "currency": "CNY"},
    "wenxin": {"input_per_1m": 4.0, "output_per_1m": 16.0, "currency": "CNY"},
    "chatgpt": {"input_per_1m": 2.5, "output_per_1m": 10.0, "currency": "USD"},
    "gemini": {"input_per_1m": 1.25, "output_per_1m": 10.0, "currency": "USD"},
    "demo": {"input_per_1m": 0.0, "output_per_1m": 0.0, "currency": "CNY"},
}
try:
    BRANDTEST_PLATFORM_PRICES = (
        json.loads(os.environ["BRANDTEST_PLATFORM_PRICES"])
        if os.environ.get("BRANDTEST_PLATFORM_PRICES")
        else _EXAMPLE_PLATFORM_PRICES
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"BRANDTEST_PLATFORM_PRICES is not JSON: {exc}") from exc
# Web-search calls are priced apart from tokens, per call (answers store ``search_calls``).
# EXAMPLES, not the platforms' real prices: set your own (JSON in BRANDTEST_SEARCH_PRICES, same
# shape). A platform not listed here charges nothing for its searches.
_EXAMPLE_SEARCH_PRICES = {
    "qwen": {"per_call": 0.004, "currency": "CNY"},
    "kimi": {"per_call": 0.03, "currency": "CNY"},
    "zhipu": {"per_call": 0.01, "currency": "CNY"},
    "wenxin": {"per_call": 0.02, "currency": "CNY"},
    "doubao": {"per_call": 0.004, "currency": "CNY"},
    "chatgpt": {"per_call": 0.01, "currency": "USD"},
    "gemini": {"per_call": 0.035, "currency": "USD"},
    "demo": {"per_call": 0.0, "currency": "CNY"},
}
try:
    BRANDTEST_SEARCH_PRICES = (
        json.loads(os.environ["BRANDTEST_SEARCH_PRICES"])
        if os.environ.get("BRANDTEST_SEARCH_PRICES")
        else _EXAMPLE_SEARCH_PRICES
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"BRANDTEST_SEARCH_PRICES is not JSON: {exc}") from exc

# --- The weekly monitor digest (records/digests.py); mail settings are below ---
# A week's digest goes out from this hour (monitor's time zone) on the Monday after it.
BRANDTEST_DIGEST_HOUR = env_int("BRANDTEST_DIGEST_HOUR", 9)
# Digests sent per scheduler tick at most (the rest on the next ticks).
BRANDTEST_DIGEST_BATCH = env_int("BRANDTEST_DIGEST_BATCH", 50)

# How long a poll's authenticated user (JWT or Token) is reused per process; a deactivated or
# deleted user, or a deleted Token, is refused again within this many seconds.
BRANDTEST_AUTH_CACHE_SECONDS = env_int("BRANDTEST_AUTH_CACHE_SECONDS", 5)
# The admin's platform filter looks through this many newest executions (no portable index
# serves "the platforms list holds X"; bounded, the filter costs the same at any table size).
BRANDTEST_ADMIN_PLATFORM_WINDOW = env_int("BRANDTEST_ADMIN_PLATFORM_WINDOW", 20_000)
# Every real platform's key, base URL, model and timeout (<PLATFORM>_API_KEY, _BASE_URL, _MODEL,
# _TIMEOUT), read from the environment once, here; records.platforms serves them.
try:
    BRANDTEST_PLATFORMS = platform_configs(os.environ, default_timeout=BRANDTEST_CALL_TIMEOUT)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

# --- Alerts (records/alerts) ------------------------------------------------------------------
# The period alerts compare (the run's scheduled time, else its start, in the monitor's time
# zone): day, week or month. One alert per rule, monitor, brand, platform and period.
BRANDTEST_ALERT_INTERVAL = os.environ.get("BRANDTEST_ALERT_INTERVAL", "day")
# visibility_drop: the metric compared, and the smallest drop (beyond noise) that alerts.
BRANDTEST_ALERT_VISIBILITY_METRIC = os.environ.get(
    "BRANDTEST_ALERT_VISIBILITY_METRIC", "visibility_score"
)
BRANDTEST_ALERT_MIN_DROP = env_float("BRANDTEST_ALERT_MIN_DROP", 0.0)
# overtaken: a competitor's share of voice must exceed the main brand's by more than this.
BRANDTEST_ALERT_OVERTAKE_MARGIN = env_float("BRANDTEST_ALERT_OVERTAKE_MARGIN", 0.0)
# negative_mention: at most this many quotes in one alert's evidence.
BRANDTEST_ALERT_MAX_EVIDENCE = env_int("BRANDTEST_ALERT_MAX_EVIDENCE", 20)
# Where links in webhook bodies and e-mails point (the service's public address).
BRANDTEST_PUBLIC_URL = os.environ.get("BRANDTEST_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhooks: per-attempt timeout, attempts in all, and exponential backoff between attempts
# (the n-th retry waits base * 2**(n-1) seconds, capped).
BRANDTEST_WEBHOOK_TIMEOUT = env_float("BRANDTEST_WEBHOOK_TIMEOUT", 5.0)
BRANDTEST_WEBHOOK_MAX_ATTEMPTS = env_int("BRANDTEST_WEBHOOK_MAX_ATTEMPTS", 6)
BRANDTEST_WEBHOOK_RETRY_BASE = env_float("BRANDTEST_WEBHOOK_RETRY_BASE", 30.0)
BRANDTEST_WEBHOOK_RETRY_MAX = env_float("BRANDTEST_WEBHOOK_RETRY_MAX", 3600.0)
# Webhook URLs at private, loopback or link-local addresses: refused in production (no
# DJANGO_SECRET_KEY means development), allowed in development and tests so local receivers work.
BRANDTEST_WEBHOOKS_ALLOW_PRIVATE = env_bool(
    "BRANDTEST_WEBHOOKS_ALLOW_PRIVATE", SECRET_KEY == DEVELOPMENT_SECRET_KEY
)
# E-mail (Django 6.1 MAILERS): in development (no DJANGO_SECRET_KEY) the console backend, so the
# worker prints each message; otherwise SMTP (DJANGO_EMAIL_HOST, default localhost:25), which
# `check --deploy` requires of production.
if os.environ.get("DJANGO_EMAIL_HOST") or SECRET_KEY != DEVELOPMENT_SECRET_KEY:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
                "port": env_int("DJANGO_EMAIL_PORT", 25),
                "username": os.environ.get("DJANGO_EMAIL_HOST_USER", ""),
                "password": os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("DJANGO_EMAIL_USE_TLS"),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "alerts@brandtest.localhost")
