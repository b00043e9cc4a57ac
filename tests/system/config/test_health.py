"""/health/ (liveness) and /ready/ (database, migrations, Redis) as platform checkers use them:
plain HTTP, any Host header, HEAD or GET, with production settings (HTTPS redirect on), from a
real gunicorn. /ready/ against real databases and Redis: tests/integration/config/test_ready.py."""

import pytest

from tests.support import child, harness
from tests.support.probes import PROBE_HOST, assert_reveals_no_address

pytestmark = pytest.mark.system


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
    assert_reveals_no_address(response.body.decode(), database_url)


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
