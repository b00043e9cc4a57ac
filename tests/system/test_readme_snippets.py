"""The snippets of README.md and docs/api.md run as written against a fresh `scripts/dev`.

A user's first minutes: `scripts/dev` (the real script, on a new SQLite file and a free port),
then the curl walk-throughs and the typed Python snippet copied from the docs. The only change
made to a snippet is the address, `http://127.0.0.1:8000`, replaced by the test server's (each
snippet must contain it). The Python snippet also passes `mypy --strict` against the client
generated from the snapshot, and the client generators' versions in the docs are the pinned ones.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support import harness
from tests.support.external import ROOT, free_port, unavailable, wait_for_http

pytestmark = pytest.mark.system

DOCS = [ROOT / "README.md", ROOT / "docs" / "api.md"]
ADDRESS = "http://127.0.0.1:8000"
FENCE = re.compile(r"^```(?P<lang>\w+)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)


def snippets(lang: str, containing: str) -> list[tuple[str, str]]:
    """(where, code) of every `lang` block of the docs that contains the given text."""
    found = []
    for path in DOCS:
        for match in FENCE.finditer(path.read_text()):
            if match["lang"] == lang and containing in match["code"]:
                found.append((f"{path.relative_to(ROOT)} block {len(found) + 1}", match["code"]))
    return found


def _localised(code: str, url: str) -> str:
    assert ADDRESS in code, f"the snippet does not name {ADDRESS}:\n{code}"
    return code.replace(ADDRESS, url)


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    """scripts/dev as a user starts it, in an environment of its own, on a new database."""
    workdir = tmp_path_factory.mktemp("scripts-dev")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = workdir / "dev.log"
    process = harness.popen_logged([str(ROOT / "scripts" / "dev"), str(port)], env=env, log_path=log_path)
    server = harness.LoggedProcess()
    server.process, server.log_path = process, log_path
    with server:
        try:
            wait_for_http(f"http://127.0.0.1:{port}/health/", timeout=180, process=process)
        except (TimeoutError, RuntimeError) as exc:
            raise AssertionError(f"scripts/dev did not come up: {exc}\n{server.output()[-3000:]}") from None
        server.url = f"http://127.0.0.1:{port}"
        yield server


def _bash(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_curl_snippets_run_as_written(dev_server, tmp_path):
    blocks = snippets("sh", "$API")
    assert len(blocks) >= 2, blocks  # the README's and the walk-through of docs/api.md
    for where, code in blocks:
        result = _bash(_localised(code, dev_server.url), tmp_path)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{where}:\n{output}\n--- scripts/dev ---\n{dev_server.output()[-3000:]}"
        # Each block signs in (or refreshes) and reads posts; none of its answers is an error.
        assert '"access"' in result.stdout, (where, output)
        assert '"results"' in result.stdout, (where, output)
    walk_through = blocks[-1][1]
    assert "publish" in walk_through and "token/refresh" in walk_through


@pytest.fixture(scope="module")
def python_client(tmp_path_factory):
    """The Python client as the docs make it: openapi-python-client from the snapshot."""
    folder = tmp_path_factory.mktemp("python-client")
    result = subprocess.run(
        [
            *(
                str(harness.VENV_BIN / "openapi-python-client"),
                "generate",
                "--path",
                str(ROOT / "schema.snapshot.yaml"),
            ),
            *("--output-path", str(folder / "blog_api_client"), "--meta", "none"),
        ],
        cwd=folder,
        env={**os.environ, "PATH": f"{harness.VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def test_the_python_snippet_type_checks_and_runs_as_written(dev_server, python_client):
    blocks = snippets("python", "blog_api_client")
    assert blocks, "no Python client snippet in the docs"
    (python_client / "mypy.ini").write_text("[mypy]\nstrict = True\n\n[mypy-blog_api_client.*]\nignore_errors = True\n")
    for number, (where, code) in enumerate(blocks):
        script = python_client / f"snippet_{number}.py"
        script.write_text(code)
        checked = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental", script.name],
            cwd=python_client,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert checked.returncode == 0, f"{where} under mypy --strict:\n{checked.stdout}{checked.stderr}"
        script.write_text(_localised(code, dev_server.url))
        ran = subprocess.run(
            [sys.executable, script.name], cwd=python_client, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, (
            f"{where}:\n{ran.stdout}{ran.stderr}\n--- scripts/dev ---\n{dev_server.output()[-2000:]}"
        )
        # The demo data scripts/dev seeds: one published post matches "deploy".
        assert ran.stdout.strip() == "1 ['Deploying anywhere']", (where, ran.stdout)


def test_scripts_dev_lets_a_client_sign_in_more_often_than_production_does(dev_server):
    """One client flow signs in, refreshes and logs out about a dozen times a minute: past the
    production auth throttle (10/min), not past the one scripts/dev sets."""
    body = {"username": "demo", "password": "demo-password-123"}
    statuses = [harness.request("POST", f"{dev_server.url}/api/auth/token/", json_body=body).status for _ in range(15)]
    assert statuses == [200] * 15, statuses
    assert "THROTTLE_AUTH_RATE=1000/min" in dev_server.output()


def test_the_generator_versions_in_the_docs_are_the_pinned_ones():
    """docs/api.md names the versions the project's own client test uses: uv.lock's
    openapi-python-client and package.json's openapi-typescript; npx runs non-interactively."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"]}
    ts = json.loads((ROOT / "tests" / "support" / "clients" / "ts" / "package.json").read_text())
    ts_versions = {**ts["dependencies"], **ts["devDependencies"]}
    text = "\n".join(code for _, code in snippets("sh", "openapi-"))
    assert f"uvx openapi-python-client@{locked['openapi-python-client']} generate" in text, text
    assert f"npx --yes openapi-typescript@{ts_versions['openapi-typescript']} " in text, text


def test_the_typescript_snippet_runs_as_written(tmp_path):
    if not shutil.which("npx"):
        unavailable("npx (npm) is not installed: the TypeScript snippet is not run")
    (line,) = [code for _, code in snippets("sh", "npx ")]
    shutil.copy(ROOT / "schema.snapshot.yaml", tmp_path / "schema.snapshot.yaml")
    result = _bash(line, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "export interface paths" in (tmp_path / "blog-api.d.ts").read_text()
