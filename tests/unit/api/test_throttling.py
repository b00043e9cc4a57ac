"""Throttling: the auth scope guards the token endpoint, anon and user rates guard the API,
a throttled request answers 429 JSON with Retry-After and costs no query, and the shipped rates.
THROTTLE_ENABLED=false and counters shared through Redis: tests/integration/api/test_throttling.py."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from tests.support import child
from tests.support.contract import error_message
from tests.support.factories import PostFactory

RATES = {"anon": "3/min", "user": "5/min", "auth": "2/min"}
WRONG_LOGIN = {"username": "nobody", "password": "wrong-password"}


@pytest.fixture
def small_rates(settings, monkeypatch):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    # DRF copies the rates onto the class when it is imported.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", RATES)


def _assert_throttled(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/json"
    assert error_message(response, 429).startswith("Request was throttled.")


@pytest.mark.django_db
def test_the_token_endpoint_is_throttled_by_the_auth_rate(small_rates, api_client, django_assert_num_queries):
    for _ in range(2):
        assert api_client.post("/api/auth/token/", WRONG_LOGIN, format="json").status_code == 401
    # Refused before the password is checked: a throttled guess costs no query.
    with django_assert_num_queries(0):
        response = api_client.post("/api/auth/token/", WRONG_LOGIN, format="json")
    _assert_throttled(response)


@pytest.mark.django_db
def test_anonymous_reads_are_throttled_by_the_anon_rate(small_rates, api_client, django_assert_num_queries):
    PostFactory(live=True)
    for _ in range(3):
        assert api_client.get("/api/posts/").status_code == 200
    with django_assert_num_queries(0):
        response = api_client.get("/api/posts/")
    _assert_throttled(response)


@pytest.mark.django_db
@pytest.mark.parametrize("proxies", [0, 1])
def test_a_made_up_x_forwarded_for_does_not_escape_the_anon_rate(small_rates, api_client, settings, proxies):
    """With no proxy (NUM_PROXIES=0, the default) the header is ignored; behind one
    (NUM_PROXIES=1) the client address is the entry that proxy appended."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    statuses = [
        api_client.get("/api/posts/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.7").status_code for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.django_db
def test_signed_in_users_get_the_user_rate_instead(small_rates, auth_client, django_assert_num_queries):
    PostFactory(live=True)
    # More than the anon rate allows, up to the user rate.
    for _ in range(5):
        assert auth_client.get("/api/posts/").status_code == 200
    with django_assert_num_queries(0):
        response = auth_client.get("/api/posts/")
    _assert_throttled(response)


def test_the_shipped_rates_are_the_documented_defaults():
    rates = child.settings_of(child.app_env(), "REST_FRAMEWORK")["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]
    assert rates == {"anon": "120/min", "user": "600/min", "auth": "10/min", "admin_login": "10/hour"}
