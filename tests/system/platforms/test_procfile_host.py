"""The Procfile run as a Heroku-style host runs it, on a Docker Engine (see
tests/system/platforms/__init__.py), against a managed Postgres that requires TLS.

The runtime contract of a Procfile host, from Heroku's documentation (Dokku, Scalingo and
others follow it):
- https://devcenter.heroku.com/articles/procfile: each line `<process type>: <command>`; the
  command runs in a shell (bash) in a dyno of its own; `web` is the one process type that
  receives HTTP traffic, on the port in $PORT, which the platform chooses.
- https://devcenter.heroku.com/articles/release-phase: `release` is run once per release, in a
  one-off dyno with the release's config vars, before the new dynos start; when it exits
  non-zero the release is not deployed and the current one keeps running.
- https://devcenter.heroku.com/articles/dynos#graceful-shutdown-with-sigterm: at shutdown every
  process of the dyno receives SIGTERM; those still running 30 seconds later get SIGKILL.
- https://devcenter.heroku.com/articles/dynos#local-environment-variables: DYNO (`web.1`), PORT.
- https://devcenter.heroku.com/articles/http-routing#heroku-headers: the router terminates
  TLS and sends X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Port, X-Request-Start,
  X-Request-Id and Via, with the public Host (`<app>.herokuapp.com` or a custom domain).
- https://devcenter.heroku.com/articles/connecting-heroku-postgres: Heroku Postgres requires
  TLS (sslmode=require); DATABASE_URL is postgres://USER:PASSWORD@HOST:5432/DB.

Emulated: the Postgres stand-in runs with ssl=on and a self-signed certificate made at test
time, and refuses every connection without TLS (pg_hba `hostnossl ... reject`); DATABASE_URL
ends with ?sslmode=require, as the managed database's documentation tells users to write it.

Not documented, tested with the safe assumption: the host has no HTTP health check (Heroku
has none: a web dyno that does not bind $PORT within 60 s is marked crashed), so the test only
waits for /health/; no variable names the public host, so ALLOWED_HOSTS is set as a config var.
Not emulated: Heroku Key-Value Store's TLS Redis (rediss:// with a self-signed certificate).
"""

import random
import secrets
import subprocess

import pytest

from config import limits
from tests.support import platform_docker as engine
from tests.support.external import ROOT

pytestmark = [pytest.mark.system, *engine.engine_only()]

PROCFILE = {
    name.strip(): command.strip()
    for name, _, command in (line.partition(":") for line in (ROOT / "Procfile").read_text().splitlines())
    if name.strip() and not name.lstrip().startswith("#")
}
APP = "blog-api-demo"
PUBLIC_HOST = f"{APP}.herokuapp.com"
PORT = random.randint(20000, 40000)
STOP_GRACE = 30  # seconds between SIGTERM and SIGKILL: fixed by the platform
ROUTER = {
    "Host": PUBLIC_HOST,
    "X-Forwarded-For": "203.0.113.99",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
    "X-Request-Start": "1764700000000",
    "X-Request-Id": "5f1c2a8e-0d7b-4a52-9d3c-6c1e2f3a4b5c",
    "Via": "1.1 vegur",
}


class ReleaseFailed(Exception):
    pass


def self_signed_certificate(folder) -> tuple[str, str]:
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=db.example.test",
            "-keyout",
            str(folder / "server.key"),
            "-out",
            str(folder / "server.crt"),
        ],
        check=True,
        capture_output=True,
    )
    return (folder / "server.crt").read_text(), (folder / "server.key").read_text()


def tls_only_postgres(deployment: engine.Deployment, folder, alias: str) -> engine.Postgres:
    certificate, key = self_signed_certificate(folder)
    prepare = "\n".join(
        [
            "set -e; mkdir -p /etc/pgtls",
            f"cat > /etc/pgtls/server.crt <<'PEM'\n{certificate}PEM",
            f"cat > /etc/pgtls/server.key <<'PEM'\n{key}PEM",
            "printf 'local all all trust\\nhostssl all all all scram-sha-256\\nhostnossl all all all reject\\n'"
            " > /etc/pgtls/pg_hba.conf",
            "chown -R postgres:postgres /etc/pgtls; chmod 600 /etc/pgtls/server.key",
        ]
    )
    args = (
        "-c",
        "ssl=on",
        "-c",
        "ssl_cert_file=/etc/pgtls/server.crt",
        "-c",
        "ssl_key_file=/etc/pgtls/server.key",
        "-c",
        "hba_file=/etc/pgtls/pg_hba.conf",
    )
    return engine.start_postgres(
        deployment, aliases=(alias,), user="u7a1b2c3", database="d4e5f6", args=args, prepare=prepare
    )


def dyno_env(config_vars: dict, process: str) -> dict:
    env = {**config_vars, "DYNO": f"{process}.1"}
    if process == "web":
        env["PORT"] = str(PORT)
    return env


def release(deployment: engine.Deployment, config_vars: dict, version: str = "v1") -> dict:
    """A release: `release` in a one-off dyno, then one dyno per other process type."""
    dynos = {"before": deployment.names()}
    outcome = deployment.one_off(
        f"release-{version}", ["bash", "-c", PROCFILE["release"]], {**config_vars, "DYNO": "release.1"}
    )
    if outcome.returncode != 0:
        raise ReleaseFailed(outcome.stdout + outcome.stderr)
    dynos["release"] = outcome
    for process, command in PROCFILE.items():
        if process != "release":
            dynos[process] = deployment.run(
                f"{process}-{version}",
                ["bash", "-c", command],
                dyno_env(config_vars, process),
                publish=PORT if process == "web" else None,
            )
    return dynos


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    deployment = engine.Deployment("procfile")
    try:
        db_host = "ec2-3-91-17-42.compute-1.amazonaws.com"
        db = tls_only_postgres(deployment, tmp_path_factory.mktemp("pgtls"), db_host)
        redis_password = engine.password()
        engine.start_redis(deployment, aliases=("redis-host.example.internal",), args=("--requirepass", redis_password))
        config_vars = {
            "SECRET_KEY": engine.secret_key(),
            "JWT_SIGNING_KEY": engine.secret_key(),
            "ALLOWED_HOSTS": PUBLIC_HOST,
            "DATABASE_URL": f"postgres://{db.user}:{db.password}@{db_host}:5432/{db.database}?sslmode=require",
            "REDIS_URL": f"redis://:{redis_password}@redis-host.example.internal:6379",
        }
        dynos = release(deployment, config_vars)
        base = dynos["web"].base_url(PORT)
        engine.wait_for_health(base, "/health/", {"Host": PUBLIC_HOST})
        yield {"deployment": deployment, "db": db, "config_vars": config_vars, "base": base, **dynos}
    finally:
        deployment.close()


def test_release_runs_once_in_a_one_off_dyno_before_the_new_dynos(host):
    assert [name.rsplit("-", 1)[1] for name in host["before"]] == ["db", "redis"]
    assert "Applying blog.0001_initial... OK" in host["release"].stdout + host["release"].stderr
    assert engine.request(host["base"], "GET", "/ready/", headers=ROUTER).status == 200


def test_a_failing_migration_fails_the_release_and_starts_no_dyno(host):
    engine.conflicting_table_database(host["db"], "procfile_broken")
    broken = host["config_vars"]["DATABASE_URL"].replace(f"/{host['db'].database}?", "/procfile_broken?")
    with pytest.raises(ReleaseFailed) as failed:
        release(host["deployment"], {**host["config_vars"], "DATABASE_URL": broken}, version="v2")
    assert 'relation "django_content_type" already exists' in str(failed.value)
    assert not [name for name in host["deployment"].names() if name.endswith("-v2")]


def test_the_database_refuses_connections_without_tls_and_the_app_uses_tls(host):
    plain = host["db"].container.exec(
        "psql",
        f"postgresql://{host['db'].user}:{host['db'].password}@127.0.0.1/{host['db'].database}?sslmode=disable",
        "-c",
        "SELECT 1",
        check=False,
    )
    assert plain.returncode != 0 and "no encryption" in plain.stderr, plain.stderr
    uses_tls = (
        "(lambda c: (c.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'), c.fetchone()[0])[1])"
        "(__import__('django.db').db.connection.cursor())"
    )
    for process in ("web", "worker"):
        assert engine.django_value(host[process], uses_tls) == "True", process


def test_web_binds_the_port_the_host_chooses_and_answers_the_router(host):
    env = dict(line.split("=", 1) for line in host["web"].inspect()["Config"]["Env"])
    assert env["PORT"] == str(PORT) and env["DYNO"] == "web.1"
    answer = engine.request(host["base"], "GET", "/api/posts/", headers=ROUTER)
    assert answer.status == 200, answer.body[:300]
    assert answer.header("X-Request-ID") == ROUTER["X-Request-Id"]
    plain = engine.request(host["base"], "GET", "/api/posts/", headers={**ROUTER, "X-Forwarded-Proto": "http"})
    assert plain.status == 301 and plain.header("Location") == f"https://{PUBLIC_HOST}/api/posts/"


def test_each_process_type_runs_its_procfile_command(host):
    expected = {"web": "gunicorn", "worker": "celery", "beat": "celery"}
    for process, command in PROCFILE.items():
        if process == "release":
            continue
        assert host[process].inspect()["Config"]["Cmd"] == ["bash", "-c", command]
        assert host[process].running(), host[process].logs()[-2000:]
        processes = host[process].exec("sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '").stdout
        assert expected[process] in processes, (process, processes)


def test_a_follower_is_notified_through_the_worker_dyno(host):
    flow = engine.whole_user_flow(host["base"], ROUTER, host["worker"], host["db"])
    print(f"\nprocfile: notification delivered {flow['delivered']:.1f}s after the publish (Postgres over TLS)")


def test_sigterm_to_every_process_then_30_seconds_lets_a_request_in_flight_complete(host):
    assert STOP_GRACE >= limits.WEB_GRACEFUL_TIMEOUT_SECONDS
    author = engine.sign_up(host["base"], ROUTER, f"stopping{secrets.token_hex(1)}")
    status, post_id, exit_code, seconds = engine.request_in_flight_at_stop(
        host["base"],
        host["web"],
        headers=ROUTER,
        token=author.access,
        signal="SIGTERM",
        grace=STOP_GRACE,
        every_process=True,
    )
    assert status == 201
    assert host["db"].psql(f"SELECT count(*) FROM blog_post WHERE id = {post_id}") == "1"
    assert exit_code != 137, host["web"].logs()[-2000:]  # it stopped by itself within the 30 s
    print(f"\nprocfile: web dyno stopped {seconds:.1f}s after SIGTERM (grace {STOP_GRACE}s), exit {exit_code}")
