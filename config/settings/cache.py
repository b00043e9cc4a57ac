"""Redis, and the default cache (throttle counters): Redis with REDIS_URL, local memory without."""

from config.env import env

# Also Celery's broker (celery.py).
REDIS_URL = env.redis_url("REDIS_URL")

# CACHE_URL overrides the default cache.
CACHES = {"default": env.cache("CACHE_URL", default=REDIS_URL or "locmemcache://")}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # Redis outages must not turn every throttled request into a 500: short timeouts.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})
