"""Security settings in production mode: Django's deployment checklist passes, and the headers,
cookies, HTTPS redirect and CORS rules reach real responses."""

import pytest
from django.contrib.auth import get_user_model

from tests.support import child
from tests.support.factories import TEST_PASSWORD

HOST = "blog.example.com"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}


def _production_env(**overrides):
    """Production as deployed: the defaults for DEBUG=false, with the HTTPS redirect not switched off."""
    return child.app_env(**{"ALLOWED_HOSTS": HOST, "SECURE_SSL_REDIRECT": None, **overrides})


# --- manage.py check --deploy ---------------------------------------------------------------------
def test_the_deployment_checklist_passes_in_production(tmp_path):
    env = _production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = child.manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "check"),
    [
        ("SECURE_HSTS_SECONDS", "0", "security.W004"),
        ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "false", "security.W005"),
        ("SECURE_SSL_REDIRECT", "false", "security.W008"),
        ("ALLOWED_HOSTS", "", "security.W020"),
        ("DEBUG", "true", "security.W018"),
    ],
)
def test_the_deployment_checklist_fails_naming_a_weakened_setting(variable, value, check):
    result = child.manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(**{variable: value}))
    assert result.returncode != 0
    assert check in result.stderr


# --- Headers and redirect, through the whole stack -------------------------------------------------
@pytest.fixture(scope="module")
def production_responses(collected_static):
    """Responses of a process with production settings, over HTTPS (X-Forwarded-Proto) and plain HTTP.

    The admin's pages name hashed static files from collectstatic's manifest, as in the image."""
    https_api, http_api, admin_login = child.send(
        _production_env(STATIC_ROOT=str(collected_static)),
        {"method": "GET", "path": "/api/", "headers": HTTPS},
        {"method": "GET", "path": "/api/posts/?page=2", "headers": {"Host": HOST}},
        {"method": "GET", "path": "/admin/login/", "headers": HTTPS},
    )
    return {"https_api": https_api, "http_api": http_api, "admin_login": admin_login}


def test_https_responses_carry_hsts_and_the_protective_headers(production_responses):
    response = production_responses["https_api"]
    assert response["status"] == 200
    headers = response["headers"]
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_plain_http_is_redirected_to_https_keeping_path_and_query(production_responses):
    response = production_responses["http_api"]
    assert response["status"] == 301
    assert response["headers"]["location"] == f"https://{HOST}/api/posts/?page=2"


def test_the_csrf_cookie_is_secure(production_responses):
    response = production_responses["admin_login"]
    assert response["status"] == 200
    assert response["cookies"]["csrftoken"]["secure"] is True


@pytest.mark.django_db
def test_the_session_cookie_is_secure_and_http_only(client):
    """The test process runs with production defaults too (tests/support/environment.py keeps DEBUG off)."""
    get_user_model().objects.create_user("editor", "editor@example.com", TEST_PASSWORD, is_staff=True)
    response = client.post("/admin/login/?next=/admin/", {"username": "editor", "password": TEST_PASSWORD}, secure=True)
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True


# --- CORS ----------------------------------------------------------------------------------------
ALLOWED_ORIGIN = "https://app.example.com"


def test_cors_answers_the_allowed_origin_on_the_api_only():
    preflight = {**HTTPS, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed, other, outside_api = child.send(
        _production_env(CORS_ALLOWED_ORIGINS=ALLOWED_ORIGIN),
        {"method": "OPTIONS", "path": "/api/posts/", "headers": {**preflight, "Origin": ALLOWED_ORIGIN}},
        {"method": "OPTIONS", "path": "/api/posts/", "headers": {**preflight, "Origin": "https://evil.example"}},
        {"method": "GET", "path": "/admin/login/", "headers": {**HTTPS, "Origin": ALLOWED_ORIGIN}},
    )
    assert allowed["status"] == 200
    assert allowed["headers"]["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in allowed["headers"]["access-control-allow-headers"]
    assert "access-control-allow-origin" not in other["headers"]
    assert "access-control-allow-origin" not in outside_api["headers"]
