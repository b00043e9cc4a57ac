"""DRF's throttles, letting requests through while the cache that counts them is unreachable.

The throttles keep their request history in the default cache, Redis in production. Without
this, a Redis outage would turn every request into a 500: losing the rate limiter must not
take the whole API down with it. Each process logs the outage at most once a minute.
"""

import logging
import time

from redis import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0
_last_logged = float("-inf")


class FailOpenMixin:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            _log_outage(exc)
            return True


def _log_outage(exc: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= LOG_EVERY_SECONDS:
        _last_logged = now
        logger.warning("throttle cache unreachable (%s): requests are not rate-limited", type(exc).__name__)


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(FailOpenMixin, throttling.ScopedRateThrottle):
    pass


class AdminLoginRateThrottle(FailOpenMixin, throttling.SimpleRateThrottle):
    """Sign-in attempts on the admin's login page per client address (the address the API's
    throttles count, NUM_PROXIES), at the `admin_login` rate, in the same cache."""

    scope = "admin_login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
