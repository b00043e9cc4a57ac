"""docker-compose.yml, the self-hosting stack: valid Compose, started in the right order, wired
to nginx.conf, the Dockerfile and config/settings.py the way they expect, and configured by
.env.example with nothing missing. (tests/deploy/test_drift.py checks its process commands.)"""

import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path, PurePosixPath

import dj_database_url
import pytest
import yaml

from tests.support import dockerfile, manifests, schemas
from tests.support.external import ROOT, empty_redis_database, unavailable

ENV_EXAMPLE = ROOT / ".env.example"
NGINX_CONF = ROOT / "nginx.conf"
VENV_BIN = Path(sys.executable).parent
BASE_ENV = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
APP_ROLES = ("release", "web", "worker", "beat")
# Compose's ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, $NAME; $$ is a literal $.
VARIABLE = re.compile(
    r"\$(?:(?P<dollar>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)
ENV_LINE = re.compile(r"^(?P<comment>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


class MissingVariable(Exception):
    pass


def interpolate(text: str, variables: dict[str, str]) -> str:
    """What Compose substitutes in docker-compose.yml, from .env (and the shell)."""

    def substitute(match):
        if match["dollar"]:
            return "$"
        name, op, arg = match["name"] or match["bare"], match["op"], match["arg"]
        value = variables.get(name)
        if op in (":?", "?") and (value is None or (op == ":?" and not value)):
            raise MissingVariable(f"{name}: {arg}")
        if op == ":-" and not value:
            return arg
        if op == "-" and value is None:
            return arg
        return value or ""

    return VARIABLE.sub(substitute, text)


def substituted_names() -> dict[str, str | None]:
    """Every variable docker-compose.yml substitutes, with its operator (None for a plain ${NAME})."""
    return {
        match["name"] or match["bare"]: match["op"]
        for match in VARIABLE.finditer(manifests.COMPOSE.read_text())
        if not match["dollar"]
    }


def env_example() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, set): set lines and the commented `# NAME=example` ones."""
    entries = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            entries[match["name"]] = (match["value"], not match["comment"])
    return entries


def filled_env() -> dict[str, str]:
    """.env.example's set values, with the secrets a user must fill in filled in."""
    values = {name: value for name, (value, is_set) in env_example().items() if is_set}
    values.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50),
        POSTGRES_PASSWORD=secrets.token_urlsafe(24),
    )
    return values


@pytest.fixture(scope="module")
def services():
    if not manifests.COMPOSE.exists():
        unavailable("docker-compose.yml does not exist yet")
    return yaml.safe_load(manifests.COMPOSE.read_text())["services"]


@pytest.fixture(scope="module")
def image(services):
    built = [spec for spec in services.values() if "build" in spec]
    assert len(built) == 1, "exactly one service builds the image; the others run it"
    return built[0]["image"]


@pytest.fixture(scope="module")
def app(services, image):
    """The services of the project image, by role."""
    roles = {}
    for name, spec in services.items():
        if spec.get("image") == image and (name, manifests._compose_command(spec)) != manifests.COMPOSE_STATIC_COPY:
            roles.setdefault(manifests._compose_role(name), []).append(name)
    return roles


@pytest.fixture(scope="module")
def runtime():
    return dockerfile.stages()[-1]


def _mounts(spec: dict) -> dict[str, tuple[str, str]]:
    """target -> (source, mode) from the short volume syntax."""
    mounts = {}
    for volume in spec.get("volumes", []):
        source, target, *mode = volume.split(":")
        mounts[target] = (source, mode[0] if mode else "rw")
    return mounts


def _depends(spec: dict) -> dict[str, str]:
    return {name: condition["condition"] for name, condition in (spec.get("depends_on") or {}).items()}


# --- The Compose specification --------------------------------------------------------------
def _validate(path: Path) -> subprocess.CompletedProcess:
    return schemas.validate(schemas.schema("compose-spec"), path)


def test_compose_file_validates_against_the_compose_spec(services):
    result = _validate(manifests.COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("original", "typo"),
    [("stop_grace_period: 30s", "stop_grace_periode: 30s"), ("condition: service_healthy", "condition: healthy")],
)
def test_compose_spec_rejects_a_misspelling(services, tmp_path, original, typo):
    text = manifests.COMPOSE.read_text()
    assert original in text, f"docker-compose.yml no longer contains {original!r}: update the test"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(original, typo, 1))
    assert _validate(broken).returncode != 0, f"the compose spec accepted {typo!r}"


# --- One image, its roles, their order ------------------------------------------------------
def test_every_role_runs_the_one_built_image(app):
    assert {role: len(names) for role, names in app.items()} == dict.fromkeys(APP_ROLES, 1), app


def test_exactly_one_beat(services, app):
    beat = services[app["beat"][0]]
    assert beat.get("deploy", {}).get("replicas", 1) == 1 and beat.get("scale", 1) == 1


def test_release_migrates_once_the_database_is_healthy_and_runs_once(services, app):
    release = services[app["release"][0]]
    assert _depends(release) == {"db": "service_healthy"}
    # A one-shot: restarted, it would migrate in a loop and never count as completed.
    assert release.get("restart", "no") == "no"


@pytest.mark.parametrize("role", ["web", "worker", "beat"])
def test_long_running_roles_start_after_a_successful_release(services, app, role):
    depends = _depends(services[app[role][0]])
    assert depends.get(app["release"][0]) == "service_completed_successfully", depends
    assert depends.get("redis") == "service_healthy", depends
    assert services[app[role][0]].get("restart") == "unless-stopped"


def test_nginx_starts_once_web_is_healthy_and_the_static_files_are_copied(services, app):
    static_copy = manifests.COMPOSE_STATIC_COPY[0]
    assert _depends(services["nginx"]) == {
        app["web"][0]: "service_healthy",
        static_copy: "service_completed_successfully",
    }
    assert services[static_copy].get("restart", "no") == "no"


def test_every_healthy_condition_has_a_healthcheck_to_wait_for(services, image, runtime):
    """Compose refuses `service_healthy` on a service with no healthcheck (or waits forever)."""
    for name, spec in services.items():
        for target, condition in _depends(spec).items():
            if condition != "service_healthy":
                continue
            check = services[target].get("healthcheck") or {}
            inherits = services[target].get("image") == image and runtime.all("HEALTHCHECK")
            assert not check.get("disable") and (check.get("test") or inherits), f"{name} waits on {target}"


def test_database_and_redis_healthchecks_ask_them(services):
    db = services["db"]
    test = " ".join(db["healthcheck"]["test"])
    assert "pg_isready" in test
    assert f"--username {db['environment']['POSTGRES_USER']}" in test
    assert f"--dbname {db['environment']['POSTGRES_DB']}" in test
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_worker_and_beat_do_not_inherit_the_web_healthcheck(services, app):
    """The image's HEALTHCHECK probes the web port: on worker or beat it would never pass."""
    worker = services[app["worker"][0]]["healthcheck"]
    assert "WORKER_HEARTBEAT_FILE" in " ".join(worker["test"])
    assert services[app["beat"][0]]["healthcheck"] == {"disable": True}


# --- Wiring: database, Redis, nginx, volumes ------------------------------------------------
def _app_environment(spec: dict) -> dict[str, str]:
    variables = filled_env()
    return {key: interpolate(str(value), variables) for key, value in spec.get("environment", {}).items()}


@pytest.mark.parametrize("role", APP_ROLES)
def test_database_and_redis_urls_reach_this_stacks_services(services, app, role):
    spec = services[app[role][0]]
    env = _app_environment(spec)
    database = dj_database_url.parse(env["DATABASE_URL"])
    db = services["db"]["environment"]
    assert (database["HOST"], database["PORT"]) == ("db", 5432)
    assert (database["USER"], database["NAME"]) == (db["POSTGRES_USER"], db["POSTGRES_DB"])
    redis = urllib.parse.urlparse(env["REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    assert spec.get("env_file") == ".env", "secrets and settings come from .env"


def test_the_database_password_is_required_and_is_the_same_on_both_sides(services, app):
    assert substituted_names()["POSTGRES_PASSWORD"] == ":?", "a missing password must stop `docker compose up`"
    password = secrets.token_urlsafe(24)
    variables = {**filled_env(), "POSTGRES_PASSWORD": password}
    db_password = interpolate(services["db"]["environment"]["POSTGRES_PASSWORD"], variables)
    app_password = dj_database_url.parse(
        interpolate(services[app["web"][0]]["environment"]["DATABASE_URL"], variables)
    )["PASSWORD"]
    assert db_password == app_password == password
    with pytest.raises(MissingVariable):
        interpolate(services["db"]["environment"]["POSTGRES_PASSWORD"], {**variables, "POSTGRES_PASSWORD": ""})


def test_nginx_upstream_is_the_web_service_on_its_port(services, app, runtime):
    upstream = re.search(r"upstream \w+ \{\s*server (?P<host>[\w.-]+):(?P<port>\d+);", NGINX_CONF.read_text())
    assert upstream["host"] == app["web"][0] == "web"
    web = services["web"]
    assert _app_environment(web)["PORT"] == upstream["port"]
    assert f"127.0.0.1:{upstream['port']}/health/" in " ".join(web["healthcheck"]["test"])
    assert upstream["port"] in runtime.all("EXPOSE")


def test_nginx_gets_its_config_and_the_static_and_media_volumes(services):
    conf = NGINX_CONF.read_text()
    root = PurePosixPath(re.search(r"^\s*root (\S+);", conf, re.MULTILINE)[1])
    assert "location /static/" in conf and "location /media/" in conf
    nginx = services["nginx"]
    assert nginx["image"].split(":")[0] == "nginx"
    mounts = _mounts(nginx)
    assert mounts["/etc/nginx/nginx.conf"] == ("./nginx.conf", "ro")
    assert mounts[str(root / "static")] == ("static", "ro")
    assert mounts[str(root / "media")] == ("media", "ro")


def test_the_static_copy_fills_the_volume_nginx_serves_from_what_the_image_collected(services, runtime):
    name, command = manifests.COMPOSE_STATIC_COPY
    argv = shlex.split(command)
    target = PurePosixPath(argv[-1])
    # settings.py: STATIC_ROOT defaults to BASE_DIR / "staticfiles", BASE_DIR being the WORKDIR.
    static_root = runtime.workdir() / "staticfiles"
    assert argv[-2] == f"{static_root}/.", "the folder's content (hidden files too), not the folder itself"
    assert any(f" {static_root} {static_root}" in f" {copy}" for copy in runtime.all("COPY"))
    assert _mounts(services[name]) == {str(target): ("static", "rw")}
    # The mount point belongs to the app user in the image, so a new volume is writable by it.
    assert re.search(rf"chown app:app [^&]*{re.escape(str(target))}", " ".join(runtime.all("RUN")))


def test_uploads_land_in_the_volume_nginx_serves_as_media(services, app, runtime):
    web = services[app["web"][0]]
    # settings.py: MEDIA_ROOT defaults to BASE_DIR / "media", BASE_DIR being the WORKDIR.
    assert "MEDIA_ROOT" not in web.get("environment", {})
    assert _mounts(web)[str(runtime.workdir() / "media")] == ("media", "rw")


def test_data_lives_in_named_volumes(services):
    document = yaml.safe_load(manifests.COMPOSE.read_text())
    assert {"pgdata", "static", "media"} <= set(document["volumes"])
    assert _mounts(services["db"])["/var/lib/postgresql/data"][0] == "pgdata"


def test_only_nginx_is_published_on_the_host(services):
    published = sorted(name for name, spec in services.items() if spec.get("ports"))
    assert published == ["nginx"], "the database, Redis and gunicorn stay on the stack's private network"


# --- .env.example -----------------------------------------------------------------------------
def test_env_example_names_only_variables_something_reads():
    read = manifests.settings_variables() | set(substituted_names())
    unknown = sorted(set(env_example()) - read)
    assert not unknown, f".env.example names {unknown}: neither config/settings.py nor docker-compose.yml reads them"


def test_env_example_lists_every_variable_compose_needs():
    missing = sorted(
        name for name, op in substituted_names().items() if op in (None, "?", ":?") and name not in env_example()
    )
    assert not missing, f"docker-compose.yml substitutes {missing} with no default: list them in .env.example"


def test_env_example_leaves_the_secrets_empty():
    """An example value would end up in production; an empty one stops the stack, naming it."""
    entries = env_example()
    for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "POSTGRES_PASSWORD"):
        assert entries[name] == ("", True), f"{name} must be set, and empty, in .env.example"
    for name in ("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SECURE_SSL_REDIRECT"):
        assert entries[name][1], f"{name} must be set in .env.example"


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'hosts': s.ALLOWED_HOSTS, 'origins': s.CSRF_TRUSTED_ORIGINS, 'redirect': s.SECURE_SSL_REDIRECT,"
        "'debug': s.DEBUG, 'db': s.DATABASES['default']['HOST'], 'broker': s.CELERY_BROKER_URL,"
        "'proxies': s.REST_FRAMEWORK['NUM_PROXIES']}))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_stack_configured_from_env_example_starts_with_production_settings(services, app):
    """What the web container gets (env_file, then the service's environment) loads the settings."""
    web = services[app["web"][0]]
    result = _load_settings({**filled_env(), **_app_environment(web)})
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout)
    assert "blog.example.com" in loaded["hosts"] and loaded["origins"] == ["https://blog.example.com"]
    assert loaded["redirect"] is True and loaded["debug"] is False
    assert (loaded["db"], loaded["broker"], loaded["proxies"]) == ("db", "redis://redis:6379/0", 1)


def test_an_env_copied_without_a_secret_key_stops_the_app_naming_it(services, app):
    web = services[app["web"][0]]
    copied = {**filled_env(), "SECRET_KEY": env_example()["SECRET_KEY"][0]}
    result = _load_settings({**copied, **_app_environment(web)})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is missing" in result.stderr


def test_an_env_copied_without_a_jwt_signing_key_starts_with_a_key_derived_from_secret_key(services, app):
    """JWT_SIGNING_KEY is optional in .env.example: left empty, the app derives one (config/settings/security.py)."""
    web = services[app["web"][0]]
    copied = {**filled_env(), "JWT_SIGNING_KEY": env_example()["JWT_SIGNING_KEY"][0]}
    assert copied["JWT_SIGNING_KEY"] == ""
    result = _load_settings({**copied, **_app_environment(web)})
    assert result.returncode == 0, result.stderr


# --- The worker's healthcheck, run for real ---------------------------------------------------
@pytest.fixture
def empty_redis():
    with empty_redis_database() as url:
        yield url


@pytest.mark.system
def test_worker_healthcheck_passes_while_its_worker_consumes_and_fails_once_stopped(
    services, app, empty_redis, tmp_path
):
    """The heartbeat file (config/celery.py) the healthcheck reads: there, and fresh, while the
    worker runs; gone once it stops. The file's default path is settings' own."""
    from django.conf import settings

    check = services[app["worker"][0]]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"]
    assert f"'{settings.WORKER_HEARTBEAT_FILE}'" in check[3]  # one default, in both places
    heartbeat = tmp_path / "heartbeat"
    env = {
        **BASE_ENV,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": empty_redis,
        "CELERY_CONCURRENCY": "1",
        "WORKER_HEARTBEAT_FILE": str(heartbeat),
    }
    probe = [str(VENV_BIN / "python"), "-c", check[3]]
    assert subprocess.run(probe, env=env, capture_output=True, timeout=30).returncode != 0  # no worker yet
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            ["scripts/worker"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        while " ready." not in log.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        first = heartbeat.stat().st_mtime
        healthy = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=30)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        deadline = time.monotonic() + 30
        while heartbeat.stat().st_mtime == first:  # touched again: the worker's loop is alive
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        # --quiet: no banner; from the first log line on, every line is JSON (before it, only
        # Celery's warning about running as root, which this test does and the image does not).
        output = log.read_text()
        assert "[queues]" not in output
        for line in output[output.index("{") :].splitlines():
            assert json.loads(line)["level"], line
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    assert not heartbeat.exists()
    stopped = subprocess.run(probe, env=env, capture_output=True, timeout=30)
    assert stopped.returncode != 0
