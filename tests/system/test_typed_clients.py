"""Typed clients generated from the committed contract (schema.snapshot.yaml), as a user of the
API makes them, type-checked strictly and run against the live app (gunicorn via scripts/web,
on the Postgres test database): register, sign in, write, publish, follow, comment,
notifications, refresh, logout, and the errors 400, 401, 403, 404 and 429 parsed as the typed
error models.

- Python: openapi-python-client (dev group, pinned by uv.lock) generates `blog_api_client`
  into a temporary folder; the flow tests/support/clients/python/flow.py is copied beside it,
  checked with `mypy --strict` (the generated package is treated as the installed library it
  would be: its own typing is the generator's business) and run.
- TypeScript: openapi-typescript types, the openapi-fetch client and tsc, pinned by
  tests/support/clients/ts/package-lock.json (`npm ci`); the flow
  tests/support/clients/ts/flow.ts is checked with `tsc --strict` and run with node.

Each flow gets a server of its own (the 429 step throttles its address's auth calls). Nothing
generated lands in the checkout.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.support import harness
from tests.support.external import ROOT, unavailable

pytestmark = [pytest.mark.system, pytest.mark.django_db]

SNAPSHOT = ROOT / "schema.snapshot.yaml"
CLIENTS = ROOT / "tests" / "support" / "clients"
FLOW_STEPS = [
    "register and sign in",
    "follow",
    "write a draft",
    "publish",
    "list posts anonymously",
    "comment",
    "notification of the followed author's post",
    "400 names the invalid field",
    "401 ",  # without a token (TypeScript), or with a bad one (Python: signed-in operations need one)
    "403 on someone else's post",
    "404 for a post that does not exist",
    "refresh",
    "logout",
    "429 with Retry-After",
]
# Enough for the flow's own auth calls (about 11) on one address; the 429 step goes past it.
AUTH_RATE = "30/min"


@pytest.fixture(scope="module")
def committed_rows_removed(django_db_setup, django_db_blocker):
    """The flows' users (and, by cascade, their posts, comments...) are committed by the server:
    removed after the module, outside any test's transaction (which would roll the removal back)."""
    User = get_user_model()
    with django_db_blocker.unblock():
        last_user = User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    yield
    with django_db_blocker.unblock():
        User.objects.filter(pk__gt=last_user).delete()


@pytest.fixture
def server(committed_rows_removed, tmp_path):
    """scripts/web on the test database, with one worker (so one throttle counter)."""
    env = harness.app_env(harness.live_database_url(), WEB_CONCURRENCY="1", THROTTLE_AUTH_RATE=AUTH_RATE)
    with harness.Gunicorn.start(env, tmp_path) as web:
        yield web


def _run(command: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None):
    base = {**os.environ, "PATH": f"{harness.VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        command, cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def _assert_flow_ran(result: subprocess.CompletedProcess, web: harness.Gunicorn) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output}\n--- server ---\n{web.output()[-3000:]}"
    done = [line.removeprefix("ok: ") for line in result.stdout.splitlines() if line.startswith("ok: ")]
    for expected in FLOW_STEPS:
        assert any(line.startswith(expected) for line in done), (expected, done)
    assert result.stdout.rstrip().endswith("flow: OK"), output


# --- Python --------------------------------------------------------------------------------------
def test_the_generated_python_client_type_checks_and_runs_the_whole_flow(server, tmp_path):
    package = tmp_path / "blog_api_client"
    generated = _run(
        [
            *(str(harness.VENV_BIN / "openapi-python-client"), "generate", "--path", str(SNAPSHOT)),
            *("--output-path", str(package), "--meta", "none"),
        ],
        cwd=tmp_path,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout + generated.stderr
    shutil.copy(CLIENTS / "python" / "flow.py", tmp_path / "flow.py")

    # Strict for the flow; the generated package counts as a library (as after `pip install`).
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n\n[mypy-blog_api_client.*]\nignore_errors = True\n")
    checked = _run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental", "flow.py"], cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    ran = _run([sys.executable, "flow.py", server.url], cwd=tmp_path, timeout=180)
    _assert_flow_ran(ran, server)


# --- TypeScript ----------------------------------------------------------------------------------
def _node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        unavailable("node and npm are not installed (Node.js 20 or newer): the TypeScript client is not checked")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        unavailable(f"node {version} is older than 20: the TypeScript client is not checked")
    return node, npm


@pytest.fixture(scope="module")
def ts_project(tmp_path_factory):
    """tests/support/clients/ts with its pinned tools installed (npm ci) in a temporary copy."""
    node, npm = _node_tools()
    project = tmp_path_factory.mktemp("ts-client")
    for name in ("package.json", "package-lock.json", "tsconfig.json", "flow.ts"):
        shutil.copy(CLIENTS / "ts" / name, project / name)
    installed = _run([npm, "ci", "--no-audit", "--no-fund"], cwd=project, timeout=600)
    if installed.returncode != 0:
        output = installed.stdout + installed.stderr
        if "ENOTFOUND" in output or "ECONNREFUSED" in output or "ETIMEDOUT" in output:
            unavailable(f"npm cannot reach its registry: {output[-500:]}")
        raise AssertionError(output)
    return project, node


def test_the_generated_typescript_client_type_checks_and_runs_the_whole_flow(server, ts_project):
    project, node = ts_project
    bin_dir = project / "node_modules" / ".bin"
    generated = _run([str(bin_dir / "openapi-typescript"), str(SNAPSHOT), "-o", "blog-api.d.ts"], cwd=project)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "warn" not in (generated.stdout + generated.stderr).lower(), generated.stdout + generated.stderr

    checked = _run([str(bin_dir / "tsc"), "--project", "tsconfig.json"], cwd=project)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    ran = _run([node, "build/flow.js", server.url], cwd=project, timeout=180)
    _assert_flow_ran(ran, server)


def test_the_typescript_tools_are_pinned_by_the_lock_file():
    """npm ci installs exactly what package-lock.json says; package.json names exact versions."""
    import json

    package = json.loads((CLIENTS / "ts" / "package.json").read_text())
    lock = json.loads((CLIENTS / "ts" / "package-lock.json").read_text())
    wanted = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    assert {"openapi-typescript", "openapi-fetch", "typescript"} <= set(wanted), wanted
    for name, version in wanted.items():
        assert version[0].isdigit(), f"{name}: pin an exact version, not {version!r}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
