"""Django itself: applications, middleware, templates, passwords, languages, files."""

from pathlib import Path

from config.env import DEBUG, env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

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
    # Loads the Celery app with Django, so that @shared_task binds to it (config/apps.py).
    "config.apps.ProjectConfig",
    "api",
    "accounts",
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
    # Anonymous post reads from Redis (blog/read_cache.py): after the headers every answer carries
    # (security, CORS), before sessions and authentication, so that a hit runs no SQL query.
    "blog.read_cache.ReadCacheMiddleware",
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in (API and admin) finds the account by its NFKC-normalized username whatever the case,
# as usernames are unique (accounts.backends).
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameBackend"]
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

# The hand-written list that scripts/bench measures the API against; never on in production.
BENCH_BASELINE_ENABLED = env.bool("BENCH_BASELINE_ENABLED", default=False)
if BENCH_BASELINE_ENABLED:
    INSTALLED_APPS.append("bench")
    ROOT_URLCONF = "bench.urls"
