"""Settings for every environment.

This module is the only place that reads the process environment. Production and local
development differ only in environment variables; with none set, the project runs in its
embedded mode: SQLite file, tasks executed eagerly, local-memory cache, console email.
"""

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


class Env(environ.Env):
    """django-environ, stricter, so that bad configuration stops start-up naming the variable.

    - A value that does not parse (WEB_CONCURRENCY=abc) raises ImproperlyConfigured naming the
      variable instead of a bare ValueError from deep inside django-environ.
    - A boolean must be spelled as one: THROTTLE_ENABLED=flase must not quietly turn throttling off.
    - A value starting with "$" is taken as it is. django-environ would read it as the name of
      another variable, so a SECRET_KEY from Django's own generator (which may start with "$")
      would silently become empty and the key itself would end up in an error message.
    """

    BOOLEAN_FALSE_STRINGS = ("false", "off", "no", "n", "0", "")

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool and isinstance(value, str):
            spelled = value.strip().lower()
            if spelled not in cls.BOOLEAN_TRUE_STRINGS + cls.BOOLEAN_FALSE_STRINGS:
                raise ValueError(f"{value!r} is not a boolean: use true or false")
        return super().parse_value(value, cast)

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        raw = self.ENVIRON.get(f"{self.prefix}{var}")
        try:
            if isinstance(raw, str) and raw.startswith("$"):
                return self.parse_value(raw, cast)
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{var} has an invalid value: {exc}") from None


env = Env()

# Used only when DEBUG is on and no SECRET_KEY is given; refused in production.
DEV_SECRET_KEY = "django-insecure-dev-only-do-not-use-in-production"

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = DEV_SECRET_KEY
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or is a development key while DEBUG is false. "
        "Set SECRET_KEY to a long random value, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, or set DEBUG=true for local development."
    )
# Django's own rule for a strong key (security.W009), enforced at start-up rather than only by check --deploy.
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY is shorter than 50 characters or has fewer than 5 distinct characters. Generate a new one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

# --- Hosts -------------------------------------------------------------------------------
# The platform's own public host name is added when its variable is present.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
FLY_APP_NAME = env.str("FLY_APP_NAME", default="")
PLATFORM_HOSTS = [
    f"{FLY_APP_NAME}.fly.dev" if FLY_APP_NAME else "",
    env.str("RENDER_EXTERNAL_HOSTNAME", default=""),
    env.str("RAILWAY_PUBLIC_DOMAIN", default=""),
]
ALLOWED_HOSTS += [host for host in PLATFORM_HOSTS if host and host not in ALLOWED_HOSTS]
# Like ALLOWED_HOSTS: a custom domain's origins are added to the platform's, not instead of them.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS += [
    f"https://{host}" for host in PLATFORM_HOSTS if host and f"https://{host}" not in CSRF_TRUSTED_ORIGINS
]

# --- Applications ------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "blog",
]

MIDDLEWARE = [
    # First: answers /health/ and /ready/ before host validation and the HTTPS redirect,
    # which platform health checkers (plain HTTP, internal host names) would otherwise fail.
    "config.health.HealthCheckMiddleware",
    "config.logging.RequestIdMiddleware",
    # Before anything that can answer early (the HTTPS redirect, authentication): see the module.
    "config.middleware.ReadWholeBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# --- Database ----------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)}
except ValueError as exc:
    # The URL holds the password: name the problem, never echo the value.
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database URL ({type(exc).__name__}). Expected postgres://USER:PASSWORD@HOST:PORT/NAME "
        "or sqlite:////absolute/path.sqlite3, with special characters in the password percent-encoded."
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast instead of hanging when the database is unreachable.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, throttling, Celery broker ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis:// or rediss:// (e.g. redis://HOST:6379/0).")
# CACHE_URL overrides the default cache (Redis when REDIS_URL is set, local memory otherwise).
try:
    CACHES = {"default": env.cache_url("CACHE_URL", default=REDIS_URL or "locmemcache://")}
except (ImproperlyConfigured, ValueError) as exc:
    raise ImproperlyConfigured(f"CACHE_URL is not a cache URL django-environ knows ({exc}).") from None
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # Redis outages must not turn every throttled request into a 500: short timeouts.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})

# --- Celery ------------------------------------------------------------------------------
# With a host name: a bare "memory://" makes kombu warn on every publish that it has none.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# No result backend: a task's effect is in the database and nobody reads its return value. With
# one, every publish would also subscribe to the result in Redis, retrying for about 20 s when
# Redis is down, and a publish during an outage would hang instead of falling back to the outbox.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Without a broker, tasks run in-process so the embedded mode needs no services.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish must not hang while the broker is down: give up quickly, the outbox sweep retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Unacknowledged tasks come back after this many seconds if their worker died.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY = False
# How often beat re-enqueues posts still in the notifications outbox (a publish made while the
# broker was down); a post waits at least this long after its publish before the sweep takes it.
OUTBOX_SWEEP_SECONDS = env.int("OUTBOX_SWEEP_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = {
    "notifications-outbox-sweep": {
        "task": "blog.tasks.sweep_pending_notifications",
        "schedule": float(OUTBOX_SWEEP_SECONDS),
    },
    "flush-expired-jwt-tokens": {
        "task": "blog.tasks.flush_expired_tokens",
        "schedule": 24 * 60 * 60.0,
    },
}
CELERY_WORKER_CONCURRENCY = env.int("CELERY_CONCURRENCY", default=2)
# Keep Django's LOGGING (JSON lines on stdout) in worker and beat processes too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat's schedule state; a writable path for the image's non-root user.
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="/tmp/celerybeat-schedule")  # noqa: S108
# The worker touches this file every few seconds while it consumes from the broker
# (config/celery.py); docker-compose.yml's healthcheck reads its age, which costs nothing,
# where `celery inspect ping` costs seconds of CPU per probe.
WORKER_HEARTBEAT_FILE = env.str("WORKER_HEARTBEAT_FILE", default="/tmp/celery-worker-heartbeat")  # noqa: S108

# --- Web server (read by config/gunicorn.py) --------------------------------------------
PORT = env.int("PORT", default=8000)
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=2)
# One thread per worker: the API's requests are CPU-bound (ORM, serialization), and threads
# contending for the GIL halved throughput in scripts/bench; raise it for slow upstream calls.
WEB_THREADS = env.int("WEB_THREADS", default=1)
WEB_TIMEOUT = env.int("WEB_TIMEOUT", default=30)
# Proxies whose X-Forwarded-* headers gunicorn trusts; "*" because the platform edge or
# nginx is the only thing that can reach the port.
FORWARDED_ALLOW_IPS = env.str("FORWARDED_ALLOW_IPS", default="*")
# gunicorn would start a master with no worker, or no thread, and serve nothing without a word.
_AT_LEAST_ONE = {
    "WEB_CONCURRENCY": WEB_CONCURRENCY,
    "WEB_THREADS": WEB_THREADS,
    "WEB_TIMEOUT": WEB_TIMEOUT,
    "CELERY_CONCURRENCY": CELERY_WORKER_CONCURRENCY,
    "OUTBOX_SWEEP_SECONDS": OUTBOX_SWEEP_SECONDS,
}
for _name, _value in _AT_LEAST_ONE.items():
    if _value < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1, not {_value}.")
if not 0 < PORT < 65536:
    raise ImproperlyConfigured(f"PORT must be a TCP port (1-65535), not {PORT}.")

# --- Email -------------------------------------------------------------------------------
try:
    EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
except (ImproperlyConfigured, ValueError) as exc:
    raise ImproperlyConfigured(
        f"EMAIL_URL is not an email URL django-environ knows ({exc}); e.g. smtp+tls://USER:PASSWORD@HOST:587."
    ) from None
vars().update(EMAIL_CONFIG)
if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":  # noqa: F821 - set just above
    # consolemail:// (the default): each email becomes one log record (config/mail.py), so that
    # the worker's output stays one JSON object per line; Django's console backend writes the
    # raw message, dozens of plain lines.
    EMAIL_BACKEND = "config.mail.LogEmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Blog <noreply@localhost>")
# Seconds before an unanswering mail server fails the send (a transient error the task
# retries) instead of holding a worker until the task's time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Auth --------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Hashed names never change content, so whitenoise can let clients cache them forever.
WHITENOISE_MAX_AGE = 60 * 60 * 24 * 365 if not DEBUG else 0

# --- Security ----------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is the operator's decision for a domain they own (the platforms' shared domains cannot
# be submitted, and leaving the list takes months), so `check --deploy` does not warn about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- Django REST framework ---------------------------------------------------------------
THROTTLE_ENABLED = env.bool("THROTTLE_ENABLED", default=True)
THROTTLE_RATES = {
    "anon": env.str("THROTTLE_ANON_RATE", default="120/min"),
    "user": env.str("THROTTLE_USER_RATE", default="600/min"),
    "auth": env.str("THROTTLE_AUTH_RATE", default="10/min"),
}
for _scope, _rate in THROTTLE_RATES.items():
    # DRF parses a rate on the first throttled request: a bad one would turn every request into a 500.
    # DRF reads only the period's first letter: "10/month" would quietly mean per minute.
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", _rate):
        raise ImproperlyConfigured(
            f"THROTTLE_{_scope.upper()}_RATE={_rate!r} is not a rate: use REQUESTS/PERIOD, e.g. 120/min "
            "(period: s, min, hour or day)."
        )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its Bearer challenge is the WWW-Authenticate header of every 401.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["blog.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "blog.filters.SearchFilter",
        "blog.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "blog.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "blog.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's own, but a Redis outage lets requests through instead of failing them.
        "blog.throttling.AnonRateThrottle",
        "blog.throttling.UserRateThrottle",
        "blog.throttling.ScopedRateThrottle",
    ]
    if THROTTLE_ENABLED
    else [],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    # Throttles count by client address: with one proxy in front (the platform's edge, or nginx),
    # the last X-Forwarded-For entry, the one that proxy appended. Left unset, DRF would use the
    # whole header, which the client writes: a made-up value per request would escape every throttle.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=1),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
}

# The hand-written list that scripts/bench measures the API against; never on in production.
BENCH_BASELINE_ENABLED = env.bool("BENCH_BASELINE_ENABLED", default=False)

JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default="")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    # A key of its own, so JWTs can be rotated without logging everyone out of the admin;
    # without one, a key derived from SECRET_KEY (never the raw SECRET_KEY) signs them.
    "SIGNING_KEY": JWT_SIGNING_KEY or hashlib.sha256(f"jwt:{SECRET_KEY}".encode()).hexdigest(),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Blog API",
    "DESCRIPTION": "Posts, comments, subscriptions and notifications, with JWT authentication.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # No call to the public validator badge service: the docs work offline.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "TAGS": [
        {"name": "posts", "description": "Published posts, plus your own drafts."},
        {"name": "comments", "description": "Comments on posts you can see."},
        {"name": "auth", "description": "Accounts and JWT tokens: send `Authorization: Bearer <access>`."},
        {"name": "subscriptions", "description": "Authors you follow."},
        {"name": "notifications", "description": "New posts by authors you follow."},
    ],
    # /health/ and /ready/ are plain Django views for probes, not part of the API contract.
}

# --- Logging -----------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}.")
LOG_JSON = env.bool("LOG_JSON", default=not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Sentry ------------------------------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if not 0.0 <= SENTRY_TRACES_SAMPLE_RATE <= 1.0:
    raise ImproperlyConfigured(f"SENTRY_TRACES_SAMPLE_RATE is a fraction from 0 to 1, not {SENTRY_TRACES_SAMPLE_RATE}.")
# The release events are tagged with: the commit being run, from the platform's commit variable
# (Render: RENDER_GIT_COMMIT, Railway: RAILWAY_GIT_COMMIT_SHA). Fly.io exposes no commit, only
# FLY_IMAGE_REF (registry.fly.io/APP:deployment-ID); its tag names the deployed image, and is the
# commit when deploying with `fly deploy --image-label <sha>`. A whole image reference cannot be
# a release: Sentry refuses release names containing "/".
_FLY_IMAGE_REF = env.str("FLY_IMAGE_REF", default="")
SENTRY_RELEASE = (
    env.str("SENTRY_RELEASE", default="")
    or env.str("RENDER_GIT_COMMIT", default="")
    or env.str("RAILWAY_GIT_COMMIT_SHA", default="")
    or _FLY_IMAGE_REF.rpartition("/")[2].partition("@")[0].partition(":")[2]  # the tag, "" without one
    or None
)
if SENTRY_RELEASE and re.search(r"[/\\\s]", SENTRY_RELEASE):
    raise ImproperlyConfigured("SENTRY_RELEASE must not contain slashes or whitespace: Sentry refuses such releases.")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn

    try:
        sentry_sdk.init(
            dsn=SENTRY_DSN,
            environment=SENTRY_ENVIRONMENT,
            release=SENTRY_RELEASE,
            traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
            send_default_pii=False,
            integrations=[DjangoIntegration(), CeleryIntegration()],
        )
    except BadDsn as exc:
        raise ImproperlyConfigured(
            f"SENTRY_DSN is not a Sentry DSN ({exc}); copy it from the project's Client Keys page, "
            "e.g. https://PUBLIC_KEY@o0.ingest.sentry.io/PROJECT_ID."
        ) from None
