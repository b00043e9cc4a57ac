"""Shared fixtures. The environment for the test process is set here, before Django loads."""

import os

import pytest

# The suite runs with production defaults (DEBUG off) and a throwaway key; a real
# SECRET_KEY from the caller's shell is never needed nor used.
os.environ["SECRET_KEY"] = "test-only-secret-key-" + "x" * 40
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Each xdist worker keeps its own throttle counters; a shared Redis cache would let
# parallel tests throttle each other.
os.environ.setdefault("CACHE_URL", "locmemcache://")
# Tests run tasks in-process unless a test asks for the real broker (see tests/blog/test_tasks_broker.py).
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("LOG_JSON", "false")

from rest_framework.test import APIClient

from tests.factories import PostFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def auth_client(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def other_client(other_user):
    client = APIClient()
    client.force_authenticate(user=other_user)
    return client


@pytest.fixture
def post(user):
    return PostFactory(author=user)
