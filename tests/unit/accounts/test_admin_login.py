"""The admin's login page is rate-limited per client address (THROTTLE_ADMIN_LOGIN_RATE, 10 an
hour): guessing a superuser's password there meets a 429, and during the lock-out even the right
password does not sign in."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from api.throttling import AdminLoginRateThrottle
from tests.support.contract import error_message
from tests.support.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ATTEMPTS = 10  # the default rate: 10/hour


@pytest.fixture(autouse=True)
def _unhashed_static(settings):
    # The login page links the admin's CSS: hashed static URLs need collectstatic (system tests).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser(username="root", email="root@example.com", password=TEST_PASSWORD)


def _sign_in(client, password, address="203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def _signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_repeated_wrong_passwords_meet_a_429_and_the_right_one_does_not_sign_in_meanwhile(superuser):
    client = Client()
    for _ in range(ATTEMPTS):
        response = _sign_in(client, "wrong-password-1")
        assert response.status_code == 200  # the form again, with its error
        assert b"Please enter the correct username and password" in response.content

    refused = _sign_in(client, "wrong-password-1")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert error_message(refused, 429).startswith("Too many sign-in attempts.")
    assert 0 < int(refused["Retry-After"]) <= 3600

    locked_out = _sign_in(client, TEST_PASSWORD)
    assert locked_out.status_code == 429
    assert not _signed_in(client)


def test_the_limit_is_per_client_address_and_ends_with_its_window(superuser, monkeypatch):
    attacker = Client()
    for _ in range(ATTEMPTS + 1):
        _sign_in(attacker, "wrong-password-1")
    assert _sign_in(attacker, TEST_PASSWORD).status_code == 429

    admin = Client()  # another address is not locked out by the attacker's guesses
    assert _sign_in(admin, TEST_PASSWORD, address="198.51.100.2").status_code == 302
    assert _signed_in(admin)

    later = time.time() + 3601  # an hour on: every attempt has left the window
    monkeypatch.setattr(AdminLoginRateThrottle, "timer", staticmethod(lambda: later))
    assert _sign_in(attacker, TEST_PASSWORD).status_code == 302
    assert _signed_in(attacker)


def test_viewing_the_login_page_is_not_an_attempt(superuser):
    client = Client()
    for _ in range(ATTEMPTS + 5):
        assert client.get("/admin/login/", REMOTE_ADDR="203.0.113.7").status_code == 200
    assert _sign_in(client, TEST_PASSWORD).status_code == 302
