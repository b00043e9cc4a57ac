"""The one reader of the process environment, and the values every process reads first.

Everything configurable is read here through `env`, by the settings package (config/settings/)
and by gunicorn's config (config/gunicorn.py); nothing else reads the process environment for
configuration. A bad value stops start-up with an ImproperlyConfigured naming the variable and
how to fix it.

This module imports neither Django's settings nor Celery: gunicorn's master reads it alone. It
lives beside the settings package rather than in it, because importing any module of that package
first runs the whole package (every setting, and Sentry's start-up).
"""

import re

import dj_database_url
import environ
from django.core.exceptions import ImproperlyConfigured

from config import limits

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# DRF parses a rate on the first throttled request, and reads only the period's first letter.
_RATE = re.compile(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)")


class Env(environ.Env):
    """django-environ, stricter, so that bad configuration stops start-up naming the variable.

    - A value that does not parse (WEB_CONCURRENCY=abc) raises ImproperlyConfigured naming the
      variable instead of a bare ValueError from deep inside django-environ.
    - A boolean must be spelled as one: THROTTLE_ENABLED=flase must not quietly turn throttling off.
    - A value starting with "$" is taken as it is. django-environ would read it as the name of
      another variable, so a SECRET_KEY from Django's own generator (which may start with "$")
      would silently become empty and the key itself would end up in an error message.

    The methods below add the checks of a value's range or form; each names the variable.
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

    def positive_int(self, var: str, *, default: int) -> int:
        """An integer of at least 1: gunicorn with no worker or no thread would serve nothing without a word."""
        value = self.int(var, default=default)
        if value < 1:
            raise ImproperlyConfigured(f"{var} must be at least 1, not {value}.")
        return value

    def non_negative_int(self, var: str, *, default: int) -> int:
        value = self.int(var, default=default)
        if value < 0:
            raise ImproperlyConfigured(f"{var} must be 0 or more, not {value}.")
        return value

    def port(self, var: str, *, default: int) -> int:
        value = self.int(var, default=default)
        if not 0 < value < 65536:
            raise ImproperlyConfigured(f"{var} must be a TCP port (1-65535), not {value}.")
        return value

    def fraction(self, var: str, *, default: float) -> float:
        value = self.float(var, default=default)
        if not 0.0 <= value <= 1.0:
            raise ImproperlyConfigured(f"{var} is a fraction from 0 to 1, not {value}.")
        return value

    def log_level(self, var: str, *, default: str) -> str:
        value = self.str(var, default=default).upper()
        if value not in LOG_LEVELS:
            raise ImproperlyConfigured(f"{var} must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {value!r}.")
        return value

    def rate(self, var: str, *, default: str) -> str:
        """A DRF throttle rate: a bad one would turn every throttled request into a 500, and
        "10/month" would quietly mean per minute."""
        value = self.str(var, default=default)
        if not _RATE.fullmatch(value):
            raise ImproperlyConfigured(
                f"{var}={value!r} is not a rate: use REQUESTS/PERIOD, e.g. 120/min (period: s, min, hour or day)."
            )
        return value

    def http_url(self, var: str, *, default: str) -> str:
        """An absolute http:// or https:// URL, such as a link the site puts in an email."""
        value = self.str(var, default=default)
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ImproperlyConfigured(
                f"{var}={value!r} is not an absolute URL without a query: use https://HOST/PATH, "
                "e.g. https://blog.example.com/verify-email/."
            )
        return value

    def database(self, var: str, *, default: str, conn_max_age: int) -> dict:
        try:
            return dj_database_url.parse(
                self.str(var, default=default), conn_max_age=conn_max_age, conn_health_checks=True
            )
        except ValueError as exc:
            # The URL holds the password: name the problem, never echo the value.
            raise ImproperlyConfigured(
                f"{var} is not a database URL ({type(exc).__name__}). Expected postgres://USER:PASSWORD@HOST:PORT/NAME "
                "or sqlite:////absolute/path.sqlite3, with special characters in the password percent-encoded."
            ) from None

    def redis_url(self, var: str) -> str:
        """A Redis URL, or "" when unset."""
        value = self.str(var, default="")
        if value and not value.startswith(("redis://", "rediss://")):
            raise ImproperlyConfigured(f"{var} must start with redis:// or rediss:// (e.g. redis://HOST:6379/0).")
        return value

    def cache(self, var: str, *, default: str) -> dict:
        try:
            return self.cache_url(var, default=default)
        except (ImproperlyConfigured, ValueError) as exc:
            raise ImproperlyConfigured(f"{var} is not a cache URL django-environ knows ({exc}).") from None

    def email(self, var: str, *, default: str) -> dict:
        try:
            return self.email_url(var, default=default)
        except (ImproperlyConfigured, ValueError) as exc:
            raise ImproperlyConfigured(
                f"{var} is not an email URL django-environ knows ({exc}); e.g. smtp+tls://USER:PASSWORD@HOST:587."
            ) from None


env = Env()

# --- Read by every process, gunicorn's master included --------------------------------------
# config/gunicorn.py takes these from here; the settings re-export them, so every Django process
# (`manage.py check` too) refuses a bad value as well.
DEBUG = env.bool("DEBUG", default=False)

LOG_LEVEL = env.log_level("LOG_LEVEL", default="INFO")
# JSON lines for a log collector; plain text for a person at a terminal.
LOG_JSON = env.bool("LOG_JSON", default=not DEBUG)

PORT = env.port("PORT", default=8000)
WEB_CONCURRENCY = env.positive_int("WEB_CONCURRENCY", default=2)
# One thread per worker: the API's requests are CPU-bound (ORM, serialization), and threads
# contending for the GIL halved throughput in scripts/bench; raise it for slow upstream calls.
WEB_THREADS = env.positive_int("WEB_THREADS", default=1)
WEB_TIMEOUT = env.positive_int("WEB_TIMEOUT", default=limits.WEB_TIMEOUT_SECONDS)
# Requests after which a gunicorn worker is replaced by a fresh one; 0 (the default) never. A
# replacement boots Django again (about a second of a core), and workers under even load reach the
# count together: with 1000 and 2 workers, scripts/bench saw both restart at once every few
# seconds and the list's p99 at 4 connections go from 52 ms to 1.5 s. Set it only to contain a
# leak you have measured, high enough that a restart is rare at your peak.
WEB_MAX_REQUESTS = env.non_negative_int("WEB_MAX_REQUESTS", default=0)
# Addresses gunicorn takes X-Forwarded-Proto (and the like) from. Loopback only by default, so a
# port reachable from anywhere (`docker run -p`) believes no client's header; each manifest whose
# proxy connects from elsewhere (nginx in compose, a platform's edge) sets it (docs/security.md,
# "Deployment shapes").
FORWARDED_ALLOW_IPS = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1")
