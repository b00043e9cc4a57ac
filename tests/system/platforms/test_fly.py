"""fly.toml run as Fly.io runs it, on a Docker Engine (see tests/system/platforms/__init__.py).

Fly.io's runtime contract, from its documentation:
- https://fly.io/docs/reference/configuration/ (fly.toml): `[deploy] release_command` runs in a
  temporary Machine from the new image, with the app's `[env]` and secrets, before any Machine
  of the new release is updated; a non-zero exit stops the deploy. It replaces the image's CMD
  (not an ENTRYPOINT). `[processes]` pairs each process group with the command its Machines run
  in place of the CMD. `[http_service] internal_port` is where fly-proxy connects.
  `kill_signal` (default SIGINT) is sent at stop and `kill_timeout` (default 5 s) later the
  Machine is killed. `[[http_service.checks]]` and `[checks]` are HTTP checks on a path.
- https://fly.io/docs/machines/runtime-environment/: every Machine has FLY_APP_NAME,
  FLY_MACHINE_ID (= FLY_ALLOC_ID), FLY_REGION, FLY_PUBLIC_IP, FLY_PRIVATE_IP, FLY_IMAGE_REF
  (`registry.fly.io/APP:deployment-ID`), FLY_PROCESS_GROUP, FLY_VM_MEMORY_MB, and
  PRIMARY_REGION (from `primary_region`).
- https://fly.io/docs/networking/request-headers/: fly-proxy terminates TLS and sends the public
  Host (`<app>.fly.dev`), X-Forwarded-Proto, X-Forwarded-Port, X-Forwarded-Ssl, Fly-Client-IP,
  X-Forwarded-For (the client first, Fly's edge address last), Fly-Forwarded-Port, Fly-Region,
  Via.
- https://fly.io/docs/postgres/managing/attach-detach/: `fly postgres attach` sets the secret
  DATABASE_URL=postgres://USER:PASSWORD@<db-app>.flycast:5432/DB?sslmode=disable (private
  network, no TLS). `fly redis create` (Upstash) hands over redis://default:PASSWORD@fly-<name>.upstash.io:6379.

Not documented, tested with the safe assumption:
- The Host header of Fly's health checks: here the Machine's private address and port, a host
  no ALLOWED_HOSTS lists, without X-Forwarded-Proto; redirects are not followed, so only a 200
  passes.
- The release Machine's FLY_PROCESS_GROUP: not set here.
"""

import shlex
import tomllib

import pytest

from config import limits
from tests.support import platform_docker as engine
from tests.support.external import ROOT

pytestmark = [pytest.mark.system, *engine.engine_only()]

FLY = tomllib.loads((ROOT / "fly.toml").read_text())
APP = FLY["app"]
PUBLIC_HOST = f"{APP}.fly.dev"
IMAGE_TAG = "deployment-01JF3Q9ZKX8Y7D2V5T4R6N1M0P"
EDGE = {
    "Host": PUBLIC_HOST,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Ssl": "on",
    "Fly-Client-IP": "203.0.113.7",
    "X-Forwarded-For": "203.0.113.7, 66.241.124.10",
    "Fly-Forwarded-Port": "443",
    "Fly-Region": FLY["primary_region"],
    "Via": "1.1 fly.io",
}


class DeployStopped(Exception):
    pass


def machine_env(deployment_env: dict, group: str | None, number: int) -> dict:
    env = {
        **deployment_env,
        "FLY_APP_NAME": APP,
        "FLY_MACHINE_ID": f"e784{number:010x}",
        "FLY_ALLOC_ID": f"e784{number:010x}",
        "FLY_REGION": FLY["primary_region"],
        "PRIMARY_REGION": FLY["primary_region"],
        "FLY_IMAGE_REF": f"registry.fly.io/{APP}:{IMAGE_TAG}",
        "FLY_PUBLIC_IP": f"2a09:8280:1::{number:x}",
        "FLY_PRIVATE_IP": f"fdaa:0:1:a7b:1::{number:x}",
        "FLY_VM_MEMORY_MB": "512",
    }
    if group:
        env["FLY_PROCESS_GROUP"] = group
    return env


def deploy(deployment: engine.Deployment, secrets: dict, release: str = "v1") -> dict:
    """`fly deploy`: the release_command in a temporary Machine, then one Machine per process group."""
    env = {**FLY["env"], **secrets}
    outcome = deployment.one_off(
        f"release-{release}", shlex.split(FLY["deploy"]["release_command"]), machine_env(env, None, 1)
    )
    if outcome.returncode != 0:
        raise DeployStopped(outcome.stdout + outcome.stderr)
    machines = {"release": outcome, "before": deployment.names()}
    for number, (group, command) in enumerate(FLY["processes"].items(), start=2):
        publish = FLY["http_service"]["internal_port"] if group in FLY["http_service"]["processes"] else None
        machines[group] = deployment.run(
            f"{group}-{release}", shlex.split(command), machine_env(env, group, number), publish=publish
        )
    return machines


@pytest.fixture(scope="module")
def fly():
    deployment = engine.Deployment("fly")
    try:
        db = engine.start_postgres(
            deployment, aliases=(f"{APP}-db.flycast",), user=APP.replace("-", "_"), database=APP.replace("-", "_")
        )
        redis_password = engine.password()
        engine.start_redis(deployment, aliases=(f"fly-{APP}-redis.upstash.io",), args=("--requirepass", redis_password))
        secrets = {
            "SECRET_KEY": engine.secret_key(),
            "JWT_SIGNING_KEY": engine.secret_key(),
            "DATABASE_URL": f"postgres://{db.user}:{db.password}@{APP}-db.flycast:5432/{db.database}?sslmode=disable",
            "REDIS_URL": f"redis://default:{redis_password}@fly-{APP}-redis.upstash.io:6379",
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",  # nothing listens: events would be dropped
        }
        machines = deploy(deployment, secrets)
        base = machines["web"].base_url(FLY["http_service"]["internal_port"])
        engine.wait_for_health(base, "/health/", EDGE)
        yield {"deployment": deployment, "db": db, "secrets": secrets, "base": base, **machines}
    finally:
        deployment.close()


def test_the_release_command_migrates_in_a_one_off_machine_before_any_process_group(fly):
    assert [name.rsplit("-", 1)[1] for name in fly["before"]] == ["db", "redis"]  # no process group yet
    assert fly["release"].returncode == 0
    assert "Applying blog.0001_initial... OK" in fly["release"].stdout + fly["release"].stderr
    ready = engine.request(fly["base"], "GET", "/ready/", headers=EDGE)
    assert ready.status == 200, ready.body


def test_a_failing_migration_stops_the_deploy_and_starts_no_machine(fly):
    engine.conflicting_table_database(fly["db"], "fly_broken")
    broken = fly["secrets"]["DATABASE_URL"].replace(f"/{fly['db'].database}?", "/fly_broken?")
    with pytest.raises(DeployStopped) as stopped:
        deploy(fly["deployment"], {**fly["secrets"], "DATABASE_URL": broken}, release="v2")
    assert 'relation "django_content_type" already exists' in str(stopped.value)
    assert not [name for name in fly["deployment"].names() if name.endswith("-v2")]  # no Machine of v2
    # The release that did run is still the one serving.
    assert engine.request(fly["base"], "GET", "/ready/", headers=EDGE).status == 200


def test_each_process_group_runs_its_command_in_place_of_the_image_cmd(fly):
    expected = {"web": "gunicorn", "worker": "celery", "beat": "celery"}
    for group, command in FLY["processes"].items():
        machine = fly[group]
        assert machine.inspect()["Config"]["Cmd"] == shlex.split(command)
        assert machine.running(), machine.logs()[-2000:]
        process = machine.exec("cat", "/proc/1/cmdline").stdout.replace("\0", " ")
        assert expected[group] in process, (group, process)
    assert " beat" in fly["beat"].exec("cat", "/proc/1/cmdline").stdout.replace("\0", " ")


def test_the_web_group_listens_on_internal_port_and_sees_flys_variables(fly):
    env = dict(line.split("=", 1) for line in fly["web"].inspect()["Config"]["Env"])
    assert env["PORT"] == str(FLY["http_service"]["internal_port"])
    assert env["FLY_PROCESS_GROUP"] == "web" and env["PRIMARY_REGION"] == FLY["primary_region"]
    assert engine.django_value(fly["web"], "settings.ALLOWED_HOSTS[-1]") == PUBLIC_HOST
    assert engine.django_value(fly["web"], "settings.CSRF_TRUSTED_ORIGINS") == f"['https://{PUBLIC_HOST}']"


def test_requests_as_fly_proxy_sends_them_are_served_over_https_only(fly):
    answer = engine.request(fly["base"], "GET", "/api/posts/", headers=EDGE)
    assert answer.status == 200, answer.body[:300]
    assert answer.header("Strict-Transport-Security").startswith("max-age=")
    # Plain HTTP reaches the app only without force_https; fly-proxy then says so in every header.
    plain_http = {
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Ssl": "off",
        "X-Forwarded-Port": "80",
        "Fly-Forwarded-Port": "80",
    }
    plain = engine.request(fly["base"], "GET", "/api/posts/", headers={**EDGE, **plain_http})
    assert plain.status == 301 and plain.header("Location") == f"https://{PUBLIC_HOST}/api/posts/"
    unknown = engine.request(fly["base"], "GET", "/api/posts/", headers={**EDGE, "Host": "attacker.example"})
    assert unknown.status == 400


def test_the_http_checks_answer_200_as_flys_checker_asks_them(fly):
    address = fly["web"].address()
    checks = [*FLY["http_service"].get("checks", []), *FLY.get("checks", {}).values()]
    assert [check["path"] for check in checks] == ["/health/", "/ready/"]
    for check in checks:
        port = check.get("port", FLY["http_service"]["internal_port"])
        assert port == FLY["http_service"]["internal_port"]
        host = {"Host": f"{address}:{port}", **check.get("headers", {})}
        answer = engine.request(fly["base"], check.get("method", "GET").upper(), check["path"], headers=host)
        assert answer.status == 200, (check, answer.status, answer.body[:300])


def test_a_follower_is_notified_through_the_worker_process_group(fly):
    flow = engine.whole_user_flow(fly["base"], EDGE, fly["worker"], fly["db"])
    print(f"\nfly: notification delivered {flow['delivered']:.1f}s after the publish")


def test_sentrys_release_is_the_tag_of_fly_image_ref(fly):
    assert engine.django_value(fly["web"], "sentry_sdk.get_client().options['release']") == IMAGE_TAG
    assert engine.django_value(fly["worker"], "settings.SENTRY_RELEASE") == IMAGE_TAG


def test_exactly_one_beat_sends_the_schedule(fly):
    assert [name for name in fly["deployment"].names() if name.endswith("-beat-v1")] == [fly["beat"].name]
    engine.wait_until(
        lambda: "notifications-outbox-sweep" in fly["beat"].logs(), "beat's first scheduled task", timeout=150
    )


def test_kill_signal_and_kill_timeout_let_a_request_in_flight_complete(fly):
    assert FLY["kill_signal"] == "SIGTERM"
    assert FLY["kill_timeout"] >= limits.WEB_GRACEFUL_TIMEOUT_SECONDS
    author = engine.sign_up(fly["base"], EDGE, "stopping")
    status, post_id, exit_code, seconds = engine.request_in_flight_at_stop(
        fly["base"], fly["web"], headers=EDGE, token=author.access, signal=FLY["kill_signal"], grace=FLY["kill_timeout"]
    )
    assert status == 201, status
    assert fly["db"].psql(f"SELECT count(*) FROM blog_post WHERE id = {post_id}") == "1"
    assert exit_code == 0, (exit_code, fly["web"].logs()[-2000:])  # stopped by itself, not killed
    print(f"\nfly: web stopped {seconds:.1f}s after {FLY['kill_signal']} (kill_timeout {FLY['kill_timeout']}s)")
