"""Postgres's statement_timeout (DB_STATEMENT_TIMEOUT_MS): no query holds a worker for long. A
statement past it is cancelled by the real server, and the request answers a JSON 503 with
Retry-After, through the whole Django stack in a child process (tests/support/crash_urls.py)."""

import json

import pytest

from api.errors import error_json
from tests.support import child, harness


@pytest.fixture
def postgres_env(django_db_setup):
    """A child process's environment on the suite's Postgres test database, with the crash URLs."""

    def make(**overrides):
        return child.app_env(
            harness.live_database_url(), DJANGO_SETTINGS_MODULE="tests.support.crash_settings", **overrides
        )

    return make


def _get(env, path):
    (response,) = child.send(env, {"method": "GET", "path": path})
    return response


@pytest.mark.django_db
def test_every_connection_has_a_ten_second_statement_timeout_by_default(postgres_env):
    response = _get(postgres_env(), "/slow-query/?seconds=0")
    assert response["status"] == 200, response["body"]
    assert json.loads(response["body"]) == {"statement_timeout": "10s"}


@pytest.mark.django_db
def test_a_statement_past_the_timeout_is_cancelled_and_answers_a_json_503_with_retry_after(postgres_env):
    env = postgres_env(DB_STATEMENT_TIMEOUT_MS="200")
    quick, slow = child.send(
        env,
        {"method": "GET", "path": "/slow-query/?seconds=0.01"},
        {"method": "GET", "path": "/slow-query/?seconds=5"},
    )
    assert quick["status"] == 200, quick["body"]
    assert json.loads(quick["body"]) == {"statement_timeout": "200ms"}

    assert slow["status"] == 503, slow["body"]
    assert slow["headers"]["content-type"] == "application/json"
    assert slow["headers"]["retry-after"] == "5"
    expected = error_json(503, "timeout", "The request took too long, try again later.")
    assert json.loads(slow["body"]) == json.loads(expected)
