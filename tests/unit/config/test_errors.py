"""Errors raised outside DRF views answer JSON too (api/errors.py): clients always parse JSON,
and production (DEBUG off, as in this test process) never shows a Django HTML page or a traceback."""

import pytest
from rest_framework.test import APIClient

from tests.support.contract import error_message


def _assert_json(response, status, detail):
    assert response["Content-Type"] == "application/json"
    assert error_message(response, status) == detail


@pytest.mark.parametrize("path", ["/api/no-such-thing/", "/no-such-page/", "/api/posts/abc/", "/static-ish/x.css"])
def test_an_unknown_url_is_a_json_404_without_a_query(client, path):
    # No django_db mark: a query would fail the test.
    _assert_json(client.get(path), 404, "Not found.")


@pytest.mark.django_db
def test_a_missing_object_is_a_json_404(client):
    _assert_json(client.get("/api/posts/987654321/"), 404, "No Post matches the given query.")


def test_an_unknown_host_is_a_json_400(client):
    _assert_json(client.get("/api/", headers={"Host": "evil.example"}), 400, "Bad request.")


@pytest.mark.urls("tests.support.crash_urls")
def test_a_permission_denied_outside_drf_is_a_json_403(client):
    _assert_json(client.get("/forbidden/"), 403, "You do not have permission to perform this action.")


@pytest.mark.urls("tests.support.crash_urls")
def test_an_unhandled_exception_is_a_json_500_without_details(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    response = client.get("/crash/")
    _assert_json(response, 500, "Internal server error.")
    assert b"CrashTestError" not in response.content and b"Traceback" not in response.content


@pytest.mark.urls("tests.support.crash_urls")
def test_an_unreachable_database_is_a_json_503_asking_to_retry(client):
    """A database outage is not a bug: 503 with Retry-After, and nothing of the error's text
    (it names the database host)."""
    client.raise_request_exception = False
    response = client.get("/database-down/")
    _assert_json(response, 503, "The database is unavailable, try again shortly.")
    assert response["Retry-After"] == "5"
    assert b"5432" not in response.content
