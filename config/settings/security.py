"""The secret key, hosts, HTTPS, cookies, CORS and the request body limit."""

import hashlib
import hmac

from django.core.exceptions import ImproperlyConfigured

from config import limits
from config.env import DEBUG, env

from .platform import PLATFORM_HOSTS

# --- Secret key ----------------------------------------------------------------------------
# Used only when DEBUG is on and no SECRET_KEY is given; refused in production.
DEV_SECRET_KEY = "django-insecure-dev-only-do-not-use-in-production"

SECRET_KEY = env.str("SECRET_KEY", default="") or (DEV_SECRET_KEY if DEBUG else "")
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

# --- JWT signing key -----------------------------------------------------------------------
# JWTs (config/settings/api.py) are signed with a key of their own, never SECRET_KEY itself. Set,
# JWT_SIGNING_KEY is held to SECRET_KEY's strength and must differ from it, so either can leak or
# be rotated without the other. Unset, a key is derived from SECRET_KEY (HMAC-SHA256 under a label
# of its own): as strong as SECRET_KEY, the same in every process, but rotated with it.
GENERATE_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
JWT_SIGNING_KEY_LABEL = b"blog-api jwt signing key"
_configured_jwt_key = env.str("JWT_SIGNING_KEY", default="")
if _configured_jwt_key and not DEBUG:
    if _configured_jwt_key == SECRET_KEY:
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY is the same as SECRET_KEY: give JWTs a key of their own, so that either can leak or be "
            f"rotated without the other. Generate one with `{GENERATE_KEY}`, or unset it to derive one."
        )
    if (
        len(_configured_jwt_key) < 50
        or len(set(_configured_jwt_key)) < 5
        or _configured_jwt_key.startswith("django-insecure")
    ):
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY is shorter than 50 characters, has fewer than 5 distinct characters or is a development "
            f"key: anyone who guesses it can sign tokens for any user. Generate a new one with `{GENERATE_KEY}`."
        )
JWT_SIGNING_KEY = (
    _configured_jwt_key or hmac.new(SECRET_KEY.encode(), JWT_SIGNING_KEY_LABEL, hashlib.sha256).hexdigest()
)

# --- Hosts ---------------------------------------------------------------------------------
# The platform's own public host name is added to the listed ones, not substituted for them; so
# are its origins to a custom domain's.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
if not DEBUG and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS contains '*' while DEBUG is false: any Host header would be trusted (password-reset links, "
        "absolute URLs, cache poisoning). List the host names this API answers to, e.g. "
        "ALLOWED_HOSTS=blog.example.com; the platform's own host name is added for you."
    )
ALLOWED_HOSTS += [host for host in PLATFORM_HOSTS if host not in ALLOWED_HOSTS]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS += [f"https://{host}" for host in PLATFORM_HOSTS if f"https://{host}" not in CSRF_TRUSTED_ORIGINS]

# --- HTTPS and cookies ---------------------------------------------------------------------
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

# --- Requests ------------------------------------------------------------------------------
# Not configurable: nginx in front refuses larger bodies (config/limits.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = limits.REQUEST_BODY_MAX_BYTES

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
