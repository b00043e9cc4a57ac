"""Redis, and the default cache (throttle counters): Redis with REDIS_URL, local memory without."""

from config.env import env

# Also Celery's broker (celery.py).
REDIS_URL = env.redis_url("REDIS_URL")

# CACHE_URL overrides the default cache.
CACHES = {"default": env.cache("CACHE_URL", default=REDIS_URL or "locmemcache://")}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # Redis outages must not turn every throttled request into a 500: short timeouts.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})

# --- The read cache of anonymous post reads (blog/read_cache.py) -------------------------------
# A shared Redis only: a per-process cache could not be invalidated across processes. Its own
# URL lets it live in a Redis with an eviction policy (allkeys-lru), apart from the broker's.
READ_CACHE_ENABLED = env.bool("READ_CACHE_ENABLED", default=True)
READ_CACHE_URL = env.redis_url("READ_CACHE_URL") or REDIS_URL
# Cache-Control max-age of anonymous post reads: how long a CDN, nginx or a browser may reuse one
# without asking again (then If-None-Match gets a 304 while nothing changed).
READ_CACHE_MAX_AGE = env.non_negative_int("READ_CACHE_MAX_AGE", default=5)
