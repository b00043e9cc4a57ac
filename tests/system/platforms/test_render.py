"""render.yaml (a Render Blueprint) run as Render runs it, on a Docker Engine (see
tests/system/platforms/__init__.py).

Render's runtime contract, from its documentation:
- https://render.com/docs/blueprint-spec: a `runtime: docker` service runs the Dockerfile's
  image; `dockerCommand` replaces its CMD; `preDeployCommand` runs after the build, in its own
  instance with the service's environment, before the new instances start (a failure fails the
  deploy and the previous instances keep serving); `healthCheckPath` (web services);
  `maxShutdownDelaySeconds` (1-300, default 30) is the time between SIGTERM and SIGKILL when
  an instance stops; `numInstances`; `envVars` with `fromGroup`, `generateValue`,
  `fromDatabase {property: connectionString}` and `fromService {type: keyvalue, property:
  connectionString}`.
- https://render.com/docs/web-services#port-binding: a web service binds 0.0.0.0 on PORT,
  which Render sets to 10000 unless the service sets it.
- https://render.com/docs/environment-variables: RENDER=true, RENDER_SERVICE_ID,
  RENDER_SERVICE_NAME, RENDER_SERVICE_TYPE, RENDER_INSTANCE_ID, RENDER_GIT_COMMIT,
  RENDER_GIT_BRANCH, RENDER_CPU_COUNT, RENDER_DISCOVERY_SERVICE, IS_PULL_REQUEST;
  RENDER_EXTERNAL_HOSTNAME and RENDER_EXTERNAL_URL for a web service (empty for a worker).
- https://render.com/docs/health-checks: a GET of the path on each instance, every few
  seconds and during a zero-downtime deploy, Host set to the service's onrender.com host name
  (or a custom domain); a 2xx or 3xx answer within 5 s passes.
- https://render.com/docs/postgresql-creating-connecting and
  https://render.com/docs/key-value: the internal connection strings are
  postgresql://USER:PASSWORD@dpg-<id>-a/DATABASE (no port) and redis://red-<id>:6379 (no
  password on the private network).

Not documented, tested with the safe assumption:
- The headers of Render's edge: X-Forwarded-Proto: https and X-Forwarded-For (the client
  address) with the public Host, as every TLS-terminating proxy sends them.
- A health check passes on a redirect; here it must be a 200 (a 301 to HTTPS would pass on
  Render while telling nothing about the app).
"""

import shlex

import pytest
import yaml

from config import limits
from tests.support import platform_docker as engine
from tests.support.external import ROOT

pytestmark = [pytest.mark.system, *engine.engine_only()]

BLUEPRINT = yaml.safe_load((ROOT / "render.yaml").read_text())
SERVICES = {service["name"]: service for service in BLUEPRINT["services"]}
GROUPS = {group["name"]: group["envVars"] for group in BLUEPRINT.get("envVarGroups", [])}
DATABASE = BLUEPRINT["databases"][0]
DEFAULT_PORT = 10000
COMMIT = "4d2c0f1e9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d"


class DeployStopped(Exception):
    pass


def by_type(kind: str) -> list[dict]:
    return [service for service in BLUEPRINT["services"] if service["type"] == kind]


WEB = by_type("web")[0]
PUBLIC_HOST = f"{WEB['name']}.onrender.com"
EDGE = {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.23"}


def service_env(service: dict, resources: dict, instance: int) -> dict:
    """The environment of one instance: the Blueprint's envVars resolved, then Render's own."""
    env = {}
    for item in service.get("envVars", []):
        if "fromGroup" in item:
            for grouped in GROUPS[item["fromGroup"]]:
                env[grouped["key"]] = (
                    resources["generated"].setdefault(grouped["key"], engine.secret_key())
                    if grouped.get("generateValue")
                    else grouped["value"]
                )
        elif "fromDatabase" in item:
            assert item["fromDatabase"] == {"name": DATABASE["name"], "property": "connectionString"}
            env[item["key"]] = resources["database_url"]
        elif "fromService" in item:
            assert item["fromService"]["type"] == "keyvalue" and item["fromService"]["property"] == "connectionString"
            env[item["key"]] = resources["redis_url"]
        else:
            env[item["key"]] = (
                resources["generated"].setdefault(item["key"], engine.secret_key())
                if item.get("generateValue")
                else item["value"]
            )
    web = service["type"] == "web"
    env.update(
        {
            "RENDER": "true",
            "IS_PULL_REQUEST": "false",
            "RENDER_SERVICE_ID": f"srv-{service['name']}",
            "RENDER_SERVICE_NAME": service["name"],
            "RENDER_SERVICE_TYPE": service["type"],
            "RENDER_INSTANCE_ID": f"srv-{service['name']}-{instance:05d}",
            "RENDER_GIT_COMMIT": COMMIT,
            "RENDER_GIT_BRANCH": service["branch"],
            "RENDER_CPU_COUNT": "0.5",
            "RENDER_DISCOVERY_SERVICE": f"{service['name']}-discovery",
            "RENDER_EXTERNAL_HOSTNAME": PUBLIC_HOST if web else "",
            "RENDER_EXTERNAL_URL": f"https://{PUBLIC_HOST}" if web else "",
        }
    )
    if web:
        env.setdefault("PORT", str(DEFAULT_PORT))
    return env


def deploy(deployment: engine.Deployment, resources: dict, release: str = "v1") -> dict:
    """A Blueprint sync: each service's preDeployCommand in an instance of its own, then its instances."""
    instances = {"before": deployment.names()}
    for service in BLUEPRINT["services"]:
        if service["type"] == "keyvalue" or "preDeployCommand" not in service:
            continue
        # Not run through a shell: the command is split into words and executed.
        outcome = deployment.one_off(
            f"predeploy-{release}", shlex.split(service["preDeployCommand"]), service_env(service, resources, 0)
        )
        if outcome.returncode != 0:
            raise DeployStopped(outcome.stdout + outcome.stderr)
        instances["predeploy"] = outcome
    for service in BLUEPRINT["services"]:
        if service["type"] == "keyvalue":
            continue
        for number in range(service.get("numInstances", 1)):
            env = service_env(service, resources, number + 1)
            publish = int(env["PORT"]) if service["type"] == "web" else None
            name = f"{service['name']}-{number}-{release}"
            instances.setdefault(service["name"], []).append(
                deployment.run(name, shlex.split(service["dockerCommand"]), env, publish=publish)
            )
    return instances


@pytest.fixture(scope="module")
def render():
    deployment = engine.Deployment("render")
    try:
        db_host, redis_host = "dpg-d1a2b3c4d5e6f7g8h9i0-a", "red-d1a2b3c4d5e6f7g8h9j0"
        db = engine.start_postgres(deployment, aliases=(db_host,), user="blog_db_user", database="blog_db")
        engine.start_redis(deployment, aliases=(redis_host,))
        resources = {
            "database_url": f"postgresql://{db.user}:{db.password}@{db_host}/{db.database}",
            "redis_url": f"redis://{redis_host}:6379",
            "generated": {},  # generateValue: made once, shared by every service
        }
        instances = deploy(deployment, resources)
        web = instances[WEB["name"]][0]
        base = web.base_url(DEFAULT_PORT)
        engine.wait_for_health(base, WEB["healthCheckPath"], {"Host": PUBLIC_HOST})
        yield {"deployment": deployment, "db": db, "resources": resources, "base": base, "web": web, **instances}
    finally:
        deployment.close()


def test_the_pre_deploy_command_migrates_in_its_own_instance_before_any_service_starts(render):
    assert [name.rsplit("-", 1)[1] for name in render["before"]] == ["db", "redis"]
    assert render["predeploy"].returncode == 0
    assert "Applying blog.0001_initial... OK" in render["predeploy"].stdout + render["predeploy"].stderr
    assert engine.request(render["base"], "GET", "/ready/", headers=EDGE).status == 200


def test_a_failing_migration_fails_the_deploy_and_starts_no_instance(render):
    engine.conflicting_table_database(render["db"], "render_broken")
    broken = render["resources"]["database_url"].rsplit("/", 1)[0] + "/render_broken"
    with pytest.raises(DeployStopped) as stopped:
        deploy(render["deployment"], {**render["resources"], "database_url": broken}, release="v2")
    assert 'relation "django_content_type" already exists' in str(stopped.value)
    assert not [name for name in render["deployment"].names() if name.endswith("-v2")]
    assert engine.request(render["base"], "GET", "/ready/", headers=EDGE).status == 200


def test_each_service_runs_its_docker_command_in_place_of_the_image_cmd(render):
    expected = {"scripts/web": "gunicorn", "scripts/worker": "celery", "scripts/beat": "celery"}
    for service in BLUEPRINT["services"]:
        for instance in render.get(service["name"], []):
            assert instance.inspect()["Config"]["Cmd"] == shlex.split(service["dockerCommand"])
            assert instance.running(), instance.logs()[-2000:]
            process = instance.exec("cat", "/proc/1/cmdline").stdout.replace("\0", " ")
            assert expected[service["dockerCommand"]] in process


def test_the_web_service_binds_the_port_render_injects_and_knows_its_host_name(render):
    assert "PORT" not in {item.get("key") for item in WEB.get("envVars", [])}  # so Render's 10000 applies
    env = dict(line.split("=", 1) for line in render["web"].inspect()["Config"]["Env"])
    assert env["PORT"] == str(DEFAULT_PORT)
    assert engine.django_value(render["web"], "settings.ALLOWED_HOSTS[-1]") == PUBLIC_HOST
    answer = engine.request(render["base"], "GET", "/api/posts/", headers=EDGE)
    assert answer.status == 200, answer.body[:300]
    plain = engine.request(render["base"], "GET", "/api/posts/", headers={**EDGE, "X-Forwarded-Proto": "http"})
    assert plain.status == 301 and plain.header("Location") == f"https://{PUBLIC_HOST}/api/posts/"


def test_the_health_check_path_answers_200_as_renders_checker_asks_it(render):
    answer = engine.request(render["base"], "GET", WEB["healthCheckPath"], headers={"Host": PUBLIC_HOST}, timeout=5)
    assert answer.status == 200, (answer.status, answer.body[:300])  # not a redirect to HTTPS


def test_the_connection_strings_render_hands_over_are_the_ones_in_use(render):
    url = render["resources"]["database_url"]
    assert url.startswith("postgresql://") and ":" not in url.rsplit("@", 1)[1]  # the scheme, and no port
    port = engine.django_value(render["web"], "settings.DATABASES['default']['PORT'] or 'default'")
    assert port == "default"
    assert engine.django_value(render["web"], "settings.CELERY_BROKER_URL") == render["resources"]["redis_url"]


def test_a_follower_is_notified_through_the_worker_service(render):
    worker = render[by_type("worker")[0]["name"]][0]
    assert worker.inspect()["Config"]["Cmd"] == ["scripts/worker"]
    flow = engine.whole_user_flow(render["base"], EDGE, worker, render["db"])
    print(f"\nrender: notification delivered {flow['delivered']:.1f}s after the publish")


def test_sentrys_release_is_render_git_commit(render):
    assert engine.django_value(render["web"], "settings.SENTRY_RELEASE") == COMMIT


def test_the_beat_service_has_exactly_one_instance_which_sends_the_schedule(render):
    beats = [service for service in BLUEPRINT["services"] if service.get("dockerCommand") == "scripts/beat"]
    assert len(beats) == 1 and beats[0]["numInstances"] == 1
    (beat,) = render[beats[0]["name"]]
    engine.wait_until(lambda: "notifications-outbox-sweep" in beat.logs(), "beat's first scheduled task", timeout=150)


def test_max_shutdown_delay_lets_a_request_in_flight_complete(render):
    grace = WEB["maxShutdownDelaySeconds"]
    assert grace >= limits.WEB_GRACEFUL_TIMEOUT_SECONDS
    author = engine.sign_up(render["base"], EDGE, "stopping")
    status, post_id, exit_code, seconds = engine.request_in_flight_at_stop(
        render["base"], render["web"], headers=EDGE, token=author.access, signal="SIGTERM", grace=grace
    )
    assert status == 201
    assert render["db"].psql(f"SELECT count(*) FROM blog_post WHERE id = {post_id}") == "1"
    assert exit_code == 0, (exit_code, render["web"].logs()[-2000:])
    print(f"\nrender: web stopped {seconds:.1f}s after SIGTERM (maxShutdownDelaySeconds {grace})")
