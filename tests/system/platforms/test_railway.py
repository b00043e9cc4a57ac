"""railway.json, railway.worker.json and railway.beat.json run as Railway runs them, on a Docker
Engine (see tests/system/platforms/__init__.py), on a private network where the database and
Redis are reachable over IPv6 only, as in Railway's legacy environments.

Railway's runtime contract, from its documentation:
- https://docs.railway.com/reference/config-as-code: one config file configures one service
  (its path is set in the service's settings); `deploy.startCommand` replaces the image's CMD;
  `deploy.preDeployCommand` runs in a separate container from the new image, with the
  service's variables, before the deployment starts (a failure stops it; its file changes are
  not kept); `healthcheckPath`, `healthcheckTimeout`; `numReplicas`; `overlapSeconds` (old and
  new deployment running together); `drainingSeconds` (between SIGTERM and SIGKILL);
  `restartPolicyType`.
- https://docs.railway.com/reference/healthchecks and
  https://docs.railway.com/guides/healthchecks: while a deployment goes live Railway queries
  the path on the PORT it injects until it answers 200 (only 200), with the Host header
  `healthcheck.railway.app`; it is not queried after the deployment is live.
- https://docs.railway.com/reference/variables: RAILWAY_PUBLIC_DOMAIN (when the service has a
  public domain), RAILWAY_PRIVATE_DOMAIN (`<service>.railway.internal`),
  RAILWAY_PROJECT_NAME/ID, RAILWAY_ENVIRONMENT_NAME/ID, RAILWAY_SERVICE_NAME/ID,
  RAILWAY_DEPLOYMENT_ID, RAILWAY_REPLICA_ID, RAILWAY_GIT_COMMIT_SHA, RAILWAY_GIT_BRANCH; PORT.
- https://docs.railway.com/private-networking: services reach each other at
  `<service>.railway.internal`; environments created before 16 October 2025 resolve those
  names to IPv6 addresses only. The Postgres template's DATABASE_URL is
  postgresql://postgres:PASSWORD@postgres.railway.internal:5432/railway, the Redis template's
  REDIS_URL redis://default:PASSWORD@redis.railway.internal:6379.

Emulated: the private network is a Docker network created with --ipv6; the database and Redis
listen on IPv6 only (Postgres `listen_addresses='::'`, Redis `bind ::`, both IPV6_V6ONLY) and
their railway.internal names resolve, in the app's containers, to their IPv6 address only (an
/etc/hosts entry, as Railway's internal DNS answers AAAA only). Docker Engine 20.10 cannot make
a network without IPv4, so the containers also have an IPv4 address, on which nothing of the
database or Redis answers (a test checks it).

Not documented, tested with the safe assumption: the PORT value Railway picks (any port: a
random one here); the headers of Railway's edge (X-Forwarded-Proto: https, X-Forwarded-For,
the public Host).
"""

import json
import random
import shlex
import socket

import pytest

from config import limits
from tests.support import platform_docker as engine
from tests.support.external import ROOT

pytestmark = [pytest.mark.system, *engine.engine_only()]

CONFIGS = {path.name: json.loads(path.read_text()) for path in sorted(ROOT.glob("railway*.json"))}
SERVICES = {
    "web": CONFIGS["railway.json"],
    "worker": CONFIGS["railway.worker.json"],
    "beat": CONFIGS["railway.beat.json"],
}
WEB = SERVICES["web"]["deploy"]
PUBLIC_HOST = "blog-web-production.up.railway.app"
HEALTHCHECK_HOST = "healthcheck.railway.app"
EDGE = {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.44"}
COMMIT = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
SUBNET = "fd12:7a11:3a7::/64"
PORT = random.randint(20000, 40000)


class DeployStopped(Exception):
    pass


def service_env(role: str, shared: dict) -> dict:
    env = {
        **shared,
        "RAILWAY_PROJECT_NAME": "blog",
        "RAILWAY_PROJECT_ID": "0b1c2d3e-blog",
        "RAILWAY_ENVIRONMENT_NAME": "production",
        "RAILWAY_ENVIRONMENT_ID": "1c2d3e4f-production",
        "RAILWAY_SERVICE_NAME": f"blog-{role}",
        "RAILWAY_SERVICE_ID": f"2d3e4f5a-{role}",
        "RAILWAY_DEPLOYMENT_ID": "3e4f5a6b-deployment",
        "RAILWAY_REPLICA_ID": f"4f5a6b7c-{role}",
        "RAILWAY_PRIVATE_DOMAIN": f"blog-{role}.railway.internal",
        "RAILWAY_GIT_COMMIT_SHA": COMMIT,
        "RAILWAY_GIT_BRANCH": "main",
    }
    if role == "web":
        env.update({"RAILWAY_PUBLIC_DOMAIN": PUBLIC_HOST, "PORT": str(PORT)})
    return env


def deploy(deployment: engine.Deployment, shared: dict, hosts: dict, release: str = "v1") -> dict:
    """Each service from its own config file: its preDeployCommand first, then its replicas."""
    services = {"before": deployment.names()}
    for role, config in SERVICES.items():
        command = config["deploy"].get("preDeployCommand")
        if command:
            words = command if isinstance(command, list) else shlex.split(command)
            outcome = deployment.one_off(f"predeploy-{release}", words, service_env(role, shared), hosts=hosts)
            if outcome.returncode != 0:
                raise DeployStopped(outcome.stdout + outcome.stderr)
            services["predeploy"] = outcome
    for role, config in SERVICES.items():
        for replica in range(config["deploy"].get("numReplicas", 1)):
            services.setdefault(role, []).append(
                deployment.run(
                    f"{role}-{replica}-{release}",
                    shlex.split(config["deploy"]["startCommand"]),
                    service_env(role, shared),
                    hosts=hosts,
                    publish=PORT if role == "web" else None,
                )
            )
    return services


@pytest.fixture(scope="module")
def railway():
    deployment = engine.Deployment("railway", ipv6_subnet=SUBNET)
    try:
        db = engine.start_postgres(
            deployment, user="postgres", database="railway", args=("-c", "listen_addresses=::"), ready_host="::1"
        )
        redis_password = engine.password()
        redis = engine.start_redis(deployment, args=("--bind", "::", "--requirepass", redis_password))
        hosts = {
            "postgres.railway.internal": db.container.address(v6=True),
            "redis.railway.internal": redis.address(v6=True),
        }
        assert all(hosts.values()), f"the engine gave no IPv6 address on {SUBNET}: {hosts}"
        shared = {
            "SECRET_KEY": engine.secret_key(),
            "JWT_SIGNING_KEY": engine.secret_key(),
            "DATABASE_URL": f"postgresql://postgres:{db.password}@postgres.railway.internal:5432/railway",
            "REDIS_URL": f"redis://default:{redis_password}@redis.railway.internal:6379",
        }
        services = deploy(deployment, shared, hosts)
        web = services["web"][0]
        base = web.base_url(PORT)
        # The deployment goes live once the health check answers 200, within healthcheckTimeout.
        engine.wait_for_health(base, WEB["healthcheckPath"], {"Host": HEALTHCHECK_HOST})
        yield {
            **services,
            "services": services,
            "deployment": deployment,
            "db": db,
            "redis": redis,
            "hosts": hosts,
            "shared": shared,
            "base": base,
            "web": web,
        }
    finally:
        deployment.close()


def test_the_pre_deploy_command_migrates_in_its_own_container_before_the_services_start(railway):
    assert isinstance(WEB["preDeployCommand"], list)
    assert [name.rsplit("-", 1)[1] for name in railway["before"]] == ["db", "redis"]
    assert "Applying blog.0001_initial... OK" in railway["predeploy"].stdout + railway["predeploy"].stderr


def test_a_failing_migration_stops_the_deploy_and_starts_no_service(railway):
    engine.conflicting_table_database(railway["db"], "railway_broken")
    broken = railway["shared"]["DATABASE_URL"].rsplit("/", 1)[0] + "/railway_broken"
    with pytest.raises(DeployStopped) as stopped:
        deploy(railway["deployment"], {**railway["shared"], "DATABASE_URL": broken}, railway["hosts"], release="v2")
    assert 'relation "django_content_type" already exists' in str(stopped.value)
    assert not [name for name in railway["deployment"].names() if name.endswith("-v2")]


def test_each_service_runs_its_start_command_in_place_of_the_image_cmd(railway):
    expected = {"web": "gunicorn", "worker": "celery", "beat": "celery"}
    for role, config in SERVICES.items():
        for replica in railway["services"][role]:
            assert replica.inspect()["Config"]["Cmd"] == shlex.split(config["deploy"]["startCommand"])
            assert replica.running(), replica.logs()[-2000:]
            assert expected[role] in replica.exec("cat", "/proc/1/cmdline").stdout.replace("\0", " ")


def test_the_health_check_answers_200_on_the_injected_port_with_railways_host(railway):
    for path in (WEB["healthcheckPath"], "/health/"):
        answer = engine.request(railway["base"], "GET", path, headers={"Host": HEALTHCHECK_HOST}, timeout=5)
        assert answer.status == 200, (path, answer.status, answer.body[:300])
    assert WEB["healthcheckTimeout"] >= 30


def test_requests_from_railways_edge_are_served_for_the_public_domain(railway):
    answer = engine.request(railway["base"], "GET", "/api/posts/", headers=EDGE)
    assert answer.status == 200, answer.body[:300]
    plain = engine.request(railway["base"], "GET", "/api/posts/", headers={**EDGE, "X-Forwarded-Proto": "http"})
    assert plain.status == 301 and plain.header("Location") == f"https://{PUBLIC_HOST}/api/posts/"


def test_the_database_and_redis_are_reached_over_the_ipv6_only_private_network(railway):
    web = railway["web"]
    probe = (
        "import socket, sys\n"
        "for name in ('postgres.railway.internal', 'redis.railway.internal'):\n"
        "    print(name, sorted({info[0].name for info in socket.getaddrinfo(name, None)}))\n"
    )
    out = web.exec("python", "-c", probe).stdout
    assert out.count("['AF_INET6']") == 2, out
    for container, port in ((railway["db"].container, 5432), (railway["redis"], 6379)):
        refused = web.exec(
            "python",
            "-c",
            f"import socket; socket.create_connection(({container.address()!r}, {port}), 3)",
            check=False,
        )
        assert refused.returncode != 0 and "Connection refused" in refused.stderr, (container.name, refused.stderr)
    ready = engine.request(railway["base"], "GET", "/ready/", headers=EDGE).json()
    assert ready["status"] == "ready", ready
    assert socket.has_ipv6


def test_a_follower_is_notified_through_the_worker_service(railway):
    flow = engine.whole_user_flow(railway["base"], EDGE, railway["worker"][0], railway["db"])
    print(f"\nrailway: notification delivered {flow['delivered']:.1f}s after the publish (over IPv6)")


def test_sentrys_release_is_railway_git_commit_sha(railway):
    assert engine.django_value(railway["web"], "settings.SENTRY_RELEASE") == COMMIT
    assert engine.django_value(railway["web"], "settings.ALLOWED_HOSTS[-1]") == PUBLIC_HOST


def test_one_beat_replica_that_never_overlaps_sends_the_schedule(railway):
    beat = SERVICES["beat"]["deploy"]
    assert beat["numReplicas"] == 1 and int(beat["overlapSeconds"]) == 0
    (replica,) = railway["beat"]
    engine.wait_until(
        lambda: "notifications-outbox-sweep" in replica.logs(), "beat's first scheduled task", timeout=150
    )


def test_draining_seconds_let_a_request_in_flight_complete(railway):
    grace = int(WEB["drainingSeconds"])
    assert grace >= limits.WEB_GRACEFUL_TIMEOUT_SECONDS
    author = engine.sign_up(railway["base"], EDGE, "stopping")
    status, post_id, exit_code, seconds = engine.request_in_flight_at_stop(
        railway["base"], railway["web"], headers=EDGE, token=author.access, signal="SIGTERM", grace=grace
    )
    assert status == 201
    assert railway["db"].psql(f"SELECT count(*) FROM blog_post WHERE id = {post_id}") == "1"
    assert exit_code == 0, (exit_code, railway["web"].logs()[-2000:])
    print(f"\nrailway: web stopped {seconds:.1f}s after SIGTERM (drainingSeconds {grace})")
