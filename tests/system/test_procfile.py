"""`honcho start` on the Procfile runs the real processes: gunicorn answers /health/, the Celery
worker answers a ping over Redis, beat runs, and SIGTERM stops them all cleanly.

Procfile convention: `release` runs once before the others (Heroku runs it per release), so
the test runs scripts/release itself and then starts `honcho start web worker beat`.
"""

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest

from tests.support import harness
from tests.support.external import ROOT, empty_redis_database, free_port, postgres_url, wait_for_http

pytestmark = pytest.mark.system

HONCHO = [sys.executable, "-m", "honcho"]
BEAT_STARTED = re.compile(r"beat\.1\s+\| .*beat: Starting")
STARTED = re.compile(r"(?P<name>\w+)\.1 started \(pid=(?P<pid>\d+)\)")
# Variables the test suite sets for in-process tests that must not reach the real processes.
SUITE_ONLY = {"CACHE_URL", "CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL", "REDIS_URL", "GUNICORN_CMD_ARGS", "PORT"}


@pytest.fixture
def database():
    """A database of its own, created once and migrated by scripts/release in the test."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlparse(postgres_url())
    name = f"{parts.path.lstrip('/') or 'blog'}_procfile"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return parts._replace(path=f"/{name}").geturl()


@pytest.fixture
def broker():
    with empty_redis_database() as url:
        yield url


def _environment(database: str, broker: str, port: int, tmp_path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in SUITE_ONLY}
    env.update(
        DATABASE_URL=database,
        REDIS_URL=broker,
        SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PORT=str(port),
        # Loopback only (config/gunicorn.py binds every interface, as the platforms need).
        GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        CELERY_CONCURRENCY="1",
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp_path / "celerybeat-schedule"),
        LOG_JSON="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def _worker_answers_ping(env: dict) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "celery", "--app", "config", "inspect", "ping", "--timeout", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode == 0 and "pong" in result.stdout


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _children(log_path) -> dict[str, int]:
    """Process name → pid of its group (honcho starts each process in a session of its own)."""
    return {match["name"]: int(match["pid"]) for match in STARTED.finditer(log_path.read_text())}


def _kill_everything(honcho: subprocess.Popen, log_path) -> None:
    for pid in [honcho.pid, *_children(log_path).values()]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    honcho.wait(timeout=10)


def test_honcho_runs_web_worker_and_beat_from_the_procfile_and_stops_them_cleanly(database, broker, tmp_path):
    port = free_port()
    env = _environment(database, broker, port, tmp_path)
    release = subprocess.run(["scripts/release"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert release.returncode == 0, release.stdout + release.stderr

    log_path = tmp_path / "honcho.log"
    honcho = harness.popen_logged(
        [*HONCHO, "--procfile", "Procfile", "--app-root", str(ROOT), "start", "web", "worker", "beat"],
        env=env,
        log_path=log_path,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health/", timeout=60, process=honcho)
        wait_for_http(f"http://127.0.0.1:{port}/ready/", timeout=30, process=honcho)
        deadline = time.monotonic() + 90
        while not _worker_answers_ping(env):
            assert honcho.poll() is None, f"honcho exited early:\n{log_path.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"the worker never answered a ping:\n{log_path.read_text()[-4000:]}"
            time.sleep(1)
        deadline = time.monotonic() + 30
        while not BEAT_STARTED.search(log_path.read_text()):
            assert time.monotonic() < deadline, f"beat never started:\n{log_path.read_text()[-4000:]}"
            time.sleep(0.5)
        output = log_path.read_text()
        assert " stopped (rc=" not in output, f"a process died before the stop:\n{output[-4000:]}"
        children = _children(log_path)
        assert set(children) == {"web", "worker", "beat"}, output[-4000:]

        honcho.send_signal(signal.SIGTERM)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"honcho did not stop within 30 s of SIGTERM:\n{log_path.read_text()[-4000:]}")
        output = log_path.read_text()
        # honcho escalates to SIGKILL after 5 s: a clean stop never gets there.
        assert "sending SIGKILL" not in output, output[-4000:]
        deadline = time.monotonic() + 20
        while any(_group_alive(pid) for pid in children.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = {name: pid for name, pid in children.items() if _group_alive(pid)}
        assert not survivors, f"processes (gunicorn workers, Celery pool) outlived honcho: {survivors}"
    finally:
        _kill_everything(honcho, log_path)
