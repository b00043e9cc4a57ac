"""The app in a child process, with an environment the test controls.

Settings are read once, when config/settings.py is imported: a test that needs other
environment variables runs the app in a new process. Each starts from harness.app_env (PATH,
HOME, LANG, production defaults, a throwaway SECRET_KEY): nothing leaks in from the test's own
environment. An override of None removes the variable.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support import harness
from tests.support.external import ROOT, free_port

# Recognisable, so a test can assert it never shows up in a response, an error or an event.
DB_PASSWORD = "s3cr3t-pw"


def unreachable_database_url() -> str:
    """A Postgres URL with a password, on a loopback port nothing listens on."""
    return f"postgres://blog:{DB_PASSWORD}@127.0.0.1:{free_port()}/blog"


def app_env(database_url: str | None = None, **overrides: str | None) -> dict[str, str]:
    env = harness.app_env(database_url or unreachable_database_url())
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def settings_of(env: dict[str, str], *names: str) -> dict:
    """The named settings as a child process started with env sees them."""
    code = (
        "import json, sys, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *names],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": env.get("DJANGO_SETTINGS_MODULE", "config.settings"),
            "LOG_LEVEL": "ERROR",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def send(env: dict[str, str], *requests: dict) -> list[dict]:
    """Requests through the whole Django stack (every middleware, URLconf, error handlers) in a child
    process started with env; see drive.py for what a request and a response look like."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "responses.json"
        result = subprocess.run(
            [sys.executable, "-m", "tests.support.drive", str(out)],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": env.get("DJANGO_SETTINGS_MODULE", "config.settings")},
            input=json.dumps(list(requests)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"driver failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        return json.loads(out.read_text())
