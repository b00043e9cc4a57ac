"""Throttling in processes started with a given environment: THROTTLE_ENABLED=false removes every
throttle, and with the real Redis the counters are shared by every process (local memory keeps
them per process). The throttles in process: tests/unit/api/test_throttling.py."""

import random

import pytest

from tests.support import child, external


# --- Processes started with a given environment ---------------------------------------------------
def _token_posts(env, count, remote_addr="127.0.0.1"):
    """Statuses of `count` invalid token requests (400 before any query), from one process."""
    requests = [{"method": "POST", "path": "/api/auth/token/", "json": {}, "remote_addr": remote_addr}] * count
    return [response["status"] for response in child.send(env, *requests)]


@pytest.mark.parametrize(("enabled", "statuses"), [("true", [400, 429, 429]), ("false", [400, 400, 400])])
def test_throttle_enabled_false_removes_every_throttle(enabled, statuses):
    # The database is unreachable: neither answer touches it.
    env = child.app_env(THROTTLE_ENABLED=enabled, THROTTLE_AUTH_RATE="1/min", THROTTLE_ANON_RATE="1/min")
    assert _token_posts(env, 3) == statuses
    expected = [] if enabled == "false" else ["AnonRateThrottle", "UserRateThrottle", "ScopedRateThrottle"]
    classes = child.settings_of(env, "REST_FRAMEWORK")["REST_FRAMEWORK"]["DEFAULT_THROTTLE_CLASSES"]
    assert [name.rsplit(".", 1)[1] for name in classes] == expected


def test_with_redis_every_process_counts_against_the_same_limit():
    redis_url = external.redis_url()
    import redis

    # A client address of its own (a documentation range), so no other test shares the counter.
    address = f"198.51.100.{random.randint(1, 254)}"
    env = child.app_env(REDIS_URL=redis_url, CACHE_URL=None, THROTTLE_AUTH_RATE="3/min", THROTTLE_ANON_RATE="100/min")
    client = redis.Redis.from_url(redis_url)
    try:
        assert _token_posts(env, 2, address) == [400, 400]
        # Another process: its own memory, the same Redis.
        assert _token_posts(env, 2, address) == [400, 429]
    finally:
        for key in client.scan_iter(f"*throttle_*_{address}"):
            client.delete(key)
        client.close()


def test_without_redis_each_process_counts_on_its_own():
    """The contrast that makes the previous test mean something: local memory is per process."""
    env = child.app_env(REDIS_URL=None, CACHE_URL=None, THROTTLE_AUTH_RATE="3/min", THROTTLE_ANON_RATE="100/min")
    assert _token_posts(env, 2) == [400, 400]
    assert _token_posts(env, 2) == [400, 400]
