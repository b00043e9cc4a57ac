"""The manifests cannot drift from the code: every process calls its scripts/ entry, every
probed health path answers 200, every variable a manifest sets is one the settings read."""

import json
import os
import stat

import pytest
import yaml
from django.urls import Resolver404, resolve

from tests.support import manifests
from tests.support.external import ROOT, unavailable


def _compose():
    if not manifests.COMPOSE.exists():
        unavailable("docker-compose.yml does not exist yet (the self-hosting manifest)")
    return manifests.compose()


PLATFORMS = {
    "Procfile": manifests.procfile,
    "fly.toml": manifests.fly,
    "render.yaml": manifests.render,
    "railway": manifests.railway,
    "docker-compose.yml": _compose,
}


@pytest.mark.parametrize("role", manifests.ROLES)
def test_each_scripts_entry_exists_and_is_executable(role):
    entry = ROOT / manifests.entry_command(role)
    assert entry.is_file(), f"{entry} is missing: every manifest calls it"
    assert entry.stat().st_mode & stat.S_IXUSR, f"{entry} is not executable (chmod +x)"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_process_calls_exactly_its_scripts_entry(platform):
    manifest = PLATFORMS[platform]()
    problems = [
        f"{process.source}: the {process.role} process runs {process.command!r}, "
        f"expected exactly {manifests.entry_command(process.role)!r}"
        for process in manifest.processes
        if process.role not in manifests.ROLES or not manifests.calls_entry(process.command, process.role)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_declares_web_worker_and_beat(platform):
    manifest = PLATFORMS[platform]()
    declared = {process.role for process in manifest.processes}
    # docker-compose may migrate with a one-off `run`; the platforms must declare their release phase.
    required = {"web", "worker", "beat"} if platform == "docker-compose.yml" else set(manifests.ROLES)
    missing = sorted(required - declared)
    assert not missing, f"{manifest.name} declares no {', '.join(missing)} process (found: {sorted(declared)})"


def test_dockerfile_cmd_is_the_web_entry():
    command = manifests.dockerfile_cmd()
    if command is None:
        unavailable("Dockerfile does not exist yet")
    assert manifests.calls_entry(command, "web"), f"Dockerfile CMD runs {command!r}, expected 'scripts/web'"


def test_exactly_one_beat_where_the_manifest_sets_a_count():
    blueprint = yaml.safe_load(manifests.RENDER.read_text())
    beats = [service for service in blueprint["services"] if service["name"].endswith("-beat")]
    assert len(beats) == 1, f"render.yaml has {len(beats)} beat services"
    assert beats[0].get("numInstances") == 1 and "scaling" not in beats[0], "render.yaml blog-beat must run 1 instance"
    railway_beat = json.loads((ROOT / "railway.beat.json").read_text())["deploy"]
    assert railway_beat.get("numReplicas") == 1, "railway.beat.json deploy.numReplicas must be 1"
    procfile_beats = [process for process in manifests.procfile().processes if process.role == "beat"]
    assert len(procfile_beats) == 1, "Procfile must have exactly one beat line"


def test_migrations_run_in_the_release_phase_only():
    """Replicas would race each other if web, worker or beat migrated at start."""
    problems = []
    for platform, read in PLATFORMS.items():
        if platform == "docker-compose.yml" and not manifests.COMPOSE.exists():
            continue
        for process in read().processes:
            if process.role != "release" and "migrate" in process.command:
                problems.append(f"{process.source}: the {process.role} process migrates ({process.command!r})")
    for role in ("web", "worker", "beat"):
        if "migrate" in (ROOT / manifests.entry_command(role)).read_text():
            problems.append(f"scripts/{role} migrates: only scripts/release may")
    assert not problems, "\n".join(problems)


def _health_paths():
    paths = []
    for platform, read in PLATFORMS.items():
        if platform == "docker-compose.yml" and not manifests.COMPOSE.exists():
            continue
        paths += read().health_paths
    return paths + manifests.dockerfile_health_paths()


def test_manifests_probe_health_paths():
    assert {path for _, path in _health_paths()} >= {"/health/", "/ready/"}


@pytest.mark.django_db
@pytest.mark.parametrize(("where", "path"), _health_paths())
def test_every_health_check_path_resolves_and_answers_200(where, path, client):
    try:
        resolve(path)
    except Resolver404:
        pytest.fail(f"{where}: {path} is not in the URLconf (config/urls.py)", pytrace=False)
    # Platform checkers probe over plain HTTP with an internal address as Host (Fly sends the
    # Machine's private IP): the answer must not depend on ALLOWED_HOSTS.
    response = client.get(path, HTTP_HOST="172.19.3.7:8000")
    assert response.status_code == 200, (
        f"{where}: GET {path} answered {response.status_code}: {response.content[:300]!r}"
    )


def test_every_variable_a_manifest_sets_is_read_by_settings():
    known = manifests.settings_variables() | manifests.PLATFORM_VARIABLES | manifests.RUNTIME_VARIABLES
    problems = []
    for platform, read in PLATFORMS.items():
        if platform == "docker-compose.yml" and not manifests.COMPOSE.exists():
            continue
        problems += [
            f"{where}: {name} is not read by config/settings/" for where, name in read().env if name not in known
        ]
    assert not problems, "\n".join(problems)


def test_settings_reader_finds_the_variables_settings_reads():
    """The AST reader is what the previous test trusts: it must see the variables the settings read."""
    names = manifests.settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PORT", "SENTRY_DSN"} <= names
    # And only variables: os.environ itself is never read by the settings.
    assert "os.environ" not in manifests.settings_source()
    assert os.sep not in "".join(names)


def test_drift_is_reported_naming_the_file_the_process_and_its_command(tmp_path, monkeypatch):
    """The checker itself: a Procfile whose web line bypasses scripts/web is caught, readably."""
    drifted = tmp_path / "Procfile"
    drifted.write_text("release: scripts/release\nweb: gunicorn config.wsgi --bind 0.0.0.0:$PORT\n")
    monkeypatch.setattr(manifests, "PROCFILE", drifted)
    with pytest.raises(AssertionError) as failure:
        test_every_process_calls_exactly_its_scripts_entry("Procfile")
    message = str(failure.value)
    assert "Procfile line 2 (web)" in message
    assert "gunicorn config.wsgi --bind 0.0.0.0:$PORT" in message
    assert "expected exactly 'scripts/web'" in message
    assert "line 1" not in message


def test_the_drift_check_exempts_the_static_copy_only_with_its_exact_command(tmp_path, monkeypatch):
    """Any other command on that service is a process again, held to a scripts/ entry, and fails."""
    drift_check = test_every_process_calls_exactly_its_scripts_entry

    drift_check("docker-compose.yml")
    document = yaml.safe_load(manifests.COMPOSE.read_text())
    document["services"]["static"]["command"] = "sh -c 'python manage.py migrate && cp -R /app/staticfiles/. /srv/'"
    drifted = tmp_path / "docker-compose.yml"
    drifted.write_text(yaml.safe_dump(document))
    monkeypatch.setattr(manifests, "COMPOSE", drifted)
    with pytest.raises(AssertionError) as failure:
        drift_check("docker-compose.yml")
    assert "docker-compose.yml service static: the static process runs" in str(failure.value)
