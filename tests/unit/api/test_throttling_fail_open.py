"""The throttles keep the API serving while the Redis that counts requests is unreachable: a
real Redis client pointed at a loopback port nobody listens on, as when Redis is down."""

import logging

import pytest

from api import throttling
from tests.support.external import free_port
from tests.support.factories import PostFactory


@pytest.fixture
def redis_down(settings, monkeypatch):
    """The default cache is a Redis nobody answers for; the outage has not been logged yet."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    monkeypatch.setattr(throttling, "_last_logged", float("-inf"))


@pytest.mark.django_db
def test_reads_writes_and_sign_in_are_served_while_redis_is_down(redis_down, api_client, auth_client, caplog):
    PostFactory(live=True)
    caplog.set_level(logging.WARNING, logger="api.throttling")

    anonymous = api_client.get("/api/posts/")  # the anon throttle
    created = auth_client.post("/api/posts/", {"title": "Still up", "body": "Redis is not."})  # the user throttle
    sign_in = api_client.post("/api/auth/token/", {"username": "nobody", "password": "wrong-password"})  # auth scope

    assert anonymous.status_code == 200 and anonymous.json()["count"] == 1
    assert created.status_code == 201
    assert sign_in.status_code == 401  # the credentials were checked, not skipped
    # Logged once per process and minute, not once per request.
    warnings = [record.getMessage() for record in caplog.records if record.name == "api.throttling"]
    assert warnings == ["throttle cache unreachable (ConnectionError): requests are not rate-limited"]


@pytest.mark.django_db
def test_the_throttles_still_count_when_the_cache_answers(monkeypatch, api_client):
    """Failing open is only for errors: with a working cache the anon rate applies as before."""
    # DRF copies the rates onto the class when it is imported.
    monkeypatch.setattr(throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    statuses = [api_client.get("/api/posts/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
