"""/health/ (liveness) and /ready/ (database, migrations, Redis) as platform checkers use them:
plain HTTP, any Host header, HEAD or GET, with production settings (HTTPS redirect on)."""

import json

import pytest
from django.db import connection

from tests.support import child, external, harness

pytestmark = pytest.mark.e2e

# Fly probes with the Machine's private address as Host; never in ALLOWED_HOSTS.
PROBE_HOST = "172.19.3.7:8000"


def _assert_reveals_no_address(body: str, database_url: str) -> None:
    """Failures name the component and the exception class, never where it is or how to log in."""
    port = database_url.rsplit(":", 1)[1].split("/")[0]
    for secret in (child.DB_PASSWORD, port, "127.0.0.1", "postgres://", "blog:"):
        assert secret not in body, f"{secret!r} leaked into {body}"


# --- A real gunicorn whose database is down -------------------------------------------------------
@pytest.fixture(scope="module")
def database_down(tmp_path_factory):
    """scripts/web with the production defaults (HTTPS redirect on) and nothing listening at DATABASE_URL."""
    workdir = tmp_path_factory.mktemp("health")
    (workdir / "static").mkdir()
    database_url = child.unreachable_database_url()
    env = child.app_env(
        database_url,
        SECURE_SSL_REDIRECT="true",
        ALLOWED_HOSTS="blog.example.com",
        WEB_CONCURRENCY="1",
        STATIC_ROOT=str(workdir / "static"),
    )
    # Gunicorn.start waits for /health/ with Host 127.0.0.1:<port>, which is not an allowed host.
    with harness.Gunicorn.start(env, workdir) as web:
        yield web, database_url


def test_health_is_ok_while_the_database_is_down(database_down):
    web, _ = database_down
    response = harness.request("GET", web.url + "/health/", headers={"Host": PROBE_HOST})
    assert response.status == 200
    assert response.json() == {"status": "ok"}
    assert response.header("Content-Type") == "application/json"


def test_ready_is_503_naming_the_database_and_nothing_more(database_down):
    web, database_url = database_down
    response = harness.request("GET", web.url + "/ready/", headers={"Host": PROBE_HOST})
    assert response.status == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "error: OperationalError", "migrations": "skipped"},
    }
    _assert_reveals_no_address(response.body.decode(), database_url)


@pytest.mark.parametrize(("path", "status"), [("/health/", 200), ("/ready/", 503)])
def test_probes_answer_head(database_down, path, status):
    web, _ = database_down
    response = harness.request("HEAD", web.url + path, headers={"Host": PROBE_HOST})
    assert response.status == status
    assert response.body == b""


def test_probes_skip_the_https_redirect_and_host_check_that_apply_everywhere_else(database_down):
    web, _ = database_down
    # The same server redirects plain HTTP on an allowed host, and refuses an unknown host...
    redirected = harness.request("GET", web.url + "/api/", headers={"Host": "blog.example.com"})
    assert redirected.status == 301
    assert redirected.header("Location") == "https://blog.example.com/api/"
    refused = harness.request("GET", web.url + "/api/", headers={"Host": PROBE_HOST, "X-Forwarded-Proto": "https"})
    assert refused.status == 400
    # ...while the probes answer over plain HTTP, whatever the Host.
    for host in (PROBE_HOST, "blog.example.com", "internal.invalid"):
        assert harness.request("GET", web.url + "/health/", headers={"Host": host}).status == 200
    assert web.requests("/health/")[-1].status == 200  # gunicorn's access log agrees


# --- /ready/ through the whole stack in a child process ------------------------------------------
@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    """A SQLite database after `manage.py migrate`, as the release phase leaves it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ready') / 'db.sqlite3'}"
    result = child.manage("migrate", "--noinput", env=child.app_env(url))
    assert result.returncode == 0, result.stderr
    return url


def _ready(env) -> tuple[int, dict, str]:
    (response,) = child.send(env, {"method": "GET", "path": "/ready/", "headers": {"Host": PROBE_HOST}})
    return response["status"], json.loads(response["body"]), response["body"]


def test_ready_is_503_while_migrations_are_unapplied_and_200_once_the_release_phase_ran(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = child.app_env(url, REDIS_URL=None)
    # A new image serving before its release phase: only some apps' tables exist.
    assert child.manage("migrate", "auth", "--noinput", env=env).returncode == 0
    status, body, _ = _ready(env)
    assert status == 503
    assert body["checks"] == {"database": "ok", "migrations": "error: RuntimeError"}

    assert child.manage("migrate", "--noinput", env=env).returncode == 0
    status, body, _ = _ready(env)
    assert (status, body) == (200, {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}})


def test_ready_is_503_naming_redis_when_redis_is_down(migrated_sqlite):
    redis_port = external.free_port()
    env = child.app_env(migrated_sqlite, REDIS_URL=f"redis://:{child.DB_PASSWORD}@127.0.0.1:{redis_port}/0")
    status, body, raw = _ready(env)
    assert status == 503
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "error: ConnectionError"}
    assert child.DB_PASSWORD not in raw and str(redis_port) not in raw


def test_ready_is_503_when_the_database_is_down(migrated_sqlite):
    """The same answer through the whole stack in a child process as from gunicorn above, Redis up or not."""
    database_url = child.unreachable_database_url()
    status, body, raw = _ready(child.app_env(database_url, REDIS_URL=None))
    assert status == 503
    assert body["checks"] == {"database": "error: OperationalError", "migrations": "skipped"}
    _assert_reveals_no_address(raw, database_url)


@pytest.fixture
def live_database_url(migrated_sqlite, django_db_setup):
    """The suite's own migrated test database on Postgres; a migrated SQLite file otherwise."""
    if connection.vendor == "postgresql":
        return harness.live_database_url()
    return migrated_sqlite


@pytest.mark.django_db
def test_ready_is_200_with_the_database_migrated_and_no_redis_configured(live_database_url):
    status, body, _ = _ready(child.app_env(live_database_url, REDIS_URL=None))
    assert (status, body) == (200, {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}})


@pytest.mark.django_db
def test_ready_is_200_with_the_database_and_redis_up(live_database_url):
    redis_url = external.redis_url()
    status, body, _ = _ready(child.app_env(live_database_url, REDIS_URL=redis_url, CACHE_URL=None))
    assert status == 200, body
    assert body == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "redis": "ok"}}
