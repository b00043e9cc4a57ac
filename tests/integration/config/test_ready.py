"""/ready/ (database, migrations, Redis) through the whole Django stack in a child process, against
real databases (a migrated SQLite file, the suite's Postgres test database) and the real Redis.
The same probes served by gunicorn: tests/system/config/test_health.py."""

import json

import pytest
from django.db import connection

from tests.support import child, external, harness
from tests.support.probes import PROBE_HOST, assert_reveals_no_address


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
    assert_reveals_no_address(raw, database_url)


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
