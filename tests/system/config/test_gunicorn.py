"""The process entries as platforms run them: scripts/web (gunicorn, config/gunicorn.py) forks
WEB_CONCURRENCY workers on 0.0.0.0:$PORT, logs access lines, stops cleanly on SIGTERM; and
scripts/release migrates, then exits without serving."""

import re
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config import gunicorn as gunicorn_config
from tests.support import child, external, harness
from tests.support.contract import error_message
from tests.support.external import ROOT, free_port

pytestmark = pytest.mark.system

BOOTING = re.compile(r"Booting worker with pid: (\d+)")


def _children(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the field after the state is the parent's pid
            children.add(int(stat.parent.name))
    return children


def _wait_for(condition, timeout=60.0):
    """Workers boot one after another after the first answers: wait for the state (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gunicorn")
    (workdir / "static").mkdir()
    env = child.app_env(WEB_CONCURRENCY="3", WEB_THREADS="2", STATIC_ROOT=str(workdir / "static"))
    with harness.Gunicorn.start(env, workdir) as server:
        yield server


def test_web_concurrency_workers_are_forked(web):
    assert _wait_for(lambda: len(BOOTING.findall(web.output())) >= 3)
    booted = {int(pid) for pid in BOOTING.findall(web.output())}
    assert len(booted) == 3
    # They are the master's children, all alive: scripts/web execs gunicorn, so the master is our process.
    assert _wait_for(lambda: _children(web.process.pid) == booted)


def test_it_binds_every_interface_on_port(web):
    assert f"Listening at: http://0.0.0.0:{web.port}" in web.output()
    # 127.0.0.2 reaches a socket bound to 0.0.0.0, never one bound to 127.0.0.1 only.
    response = harness.request("GET", f"http://127.0.0.2:{web.port}/health/")
    assert response.status == 200


def test_requests_are_logged_as_access_lines(web):
    request_id = uuid.uuid4().hex
    response = harness.request("GET", web.url + "/api/", headers={"X-Request-ID": request_id})
    assert response.status == 200
    assert _wait_for(lambda: web.requests("/api/"))
    assert web.requests("/api/")[-1] == harness.Logged("GET", "/api/", 200)
    assert re.search(rf'"GET /api/ HTTP/1.1" 200 \d+ \d+ms rid={request_id}', web.output())


@pytest.mark.parametrize(
    ("headers", "query", "status", "detail"),
    [
        ({}, "x" * 9000, 414, "URI Too Long."),  # a request line over 8190 bytes
        ({"X-Padding": "x" * 9000}, "", 431, "Request Header Fields Too Large."),  # a header over 8190 bytes
    ],
    ids=["request-line", "header"],
)
def test_what_gunicorn_refuses_itself_is_answered_in_json(web, headers, query, status, detail):
    """Refused before Django sees it, still answered like every other API error, and nothing
    of the request echoed back."""
    response = harness.request("GET", f"{web.url}/api/posts/?search={query}", headers=headers)
    assert response.header("Content-Type") == "application/json"
    assert error_message(response, status) == detail


def test_a_long_query_string_that_nginx_passes_on_reaches_the_app(web):
    response = harness.request("GET", f"{web.url}/api/?search={'x' * 6000}")
    assert response.status == 200 and "posts" in response.json()


@pytest.mark.parametrize("script_name", ["/zzz", "/api"])
def test_a_clients_script_name_header_is_ignored(web, script_name):
    """gunicorn took SCRIPT_NAME from any trusted peer's header ("*" trusted everyone): /zzz made
    every request a 500, /api would have moved the whole URL space."""
    response = harness.request("GET", web.url + "/api/", headers={"SCRIPT_NAME": script_name})
    assert response.status == 200, response.body[:300]
    assert "posts" in response.json()
    assert response.json()["posts"].endswith("/api/posts/") and "/zzz" not in response.json()["posts"]


def test_sigterm_stops_master_and_workers_cleanly_within_the_graceful_timeout(tmp_path):
    (tmp_path / "static").mkdir()
    env = child.app_env(WEB_CONCURRENCY="2", STATIC_ROOT=str(tmp_path / "static"))
    web = harness.Gunicorn.start(env, tmp_path)
    try:
        assert _wait_for(lambda: len(_children(web.process.pid)) == 2)
        workers = _children(web.process.pid)
        # stop() sends SIGTERM and only SIGKILLs (exit -9) if the master is still there after the timeout.
        status = web.stop(signal.SIGTERM, timeout=gunicorn_config.graceful_timeout)
    finally:
        web.kill()
    assert status == 0, web.output()[-2000:]
    assert "Handling signal: term" in web.output()
    assert "Shutting down: Master" in web.output()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.parametrize(("max_requests", "requests", "replaced"), [(None, 1200, False), ("40", 120, True)])
def test_a_worker_is_replaced_by_a_fresh_one_only_past_web_max_requests(tmp_path, max_requests, requests, replaced):
    """Replacing a worker boots Django again: by default (1,200 requests, past the 1,000 that used
    to recycle it) the worker serves on; with WEB_MAX_REQUESTS=40 it is replaced, and nothing fails."""
    (tmp_path / "static").mkdir()
    extra = {"WEB_MAX_REQUESTS": max_requests} if max_requests else {}
    env = child.app_env(WEB_CONCURRENCY="1", STATIC_ROOT=str(tmp_path / "static"), **extra)
    web = harness.Gunicorn.start(env, tmp_path)
    try:
        assert _wait_for(lambda: len(_children(web.process.pid)) == 1)
        first = _children(web.process.pid)
        statuses = {harness.request("GET", f"{web.url}/health/").status for _ in range(requests)}
        assert _wait_for(lambda: len(_children(web.process.pid)) == 1)
        now = _children(web.process.pid)
    finally:
        web.stop()
    assert statuses == {200}
    assert ("Autorestarting worker" in web.output()) is replaced
    assert (now != first) is replaced


def _read_status(sock) -> str:
    """The status line of the response on sock ("" if the server closed or reset it unanswered)."""
    try:
        data = b""
        while b"\r\n" not in data and (chunk := sock.recv(1024)):
            data += chunk
    except ConnectionResetError:
        return ""
    return data.split(b"\r\n", 1)[0].decode()


def test_sigterm_answers_every_connection_already_queued_and_refuses_new_ones(tmp_path):
    """A deploy stops gunicorn while clients wait in its queue: each of them gets its answer
    (the sync worker resets them when its socket closes), and a connection made after the
    stop is refused, which a proxy retries on another instance (config/gunicorn_worker.py)."""
    (tmp_path / "static").mkdir()
    env = child.app_env(WEB_CONCURRENCY="1", WEB_THREADS="1", STATIC_ROOT=str(tmp_path / "static"))
    web = harness.Gunicorn.start(env, tmp_path)
    waiting = []
    try:
        # The only thread is busy reading a request whose body has not come yet.
        busy = socket.create_connection(("127.0.0.1", web.port), timeout=30)
        busy.sendall(b"POST /api/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
        busy.sendall(b"Content-Length: 2\r\nConnection: close\r\n\r\n")
        for _ in range(10):
            client = socket.create_connection(("127.0.0.1", web.port), timeout=30)
            client.sendall(b"GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            waiting.append(client)
        web.process.send_signal(signal.SIGTERM)
        assert _wait_for(lambda: "Handling signal: term" in web.output())
        busy.sendall(b"{}")

        statuses = [_read_status(client) for client in waiting]
        assert _read_status(busy) == "HTTP/1.1 400 Bad Request"  # answered: the missing credentials
        assert statuses == ["HTTP/1.1 200 OK"] * 10
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", web.port), timeout=5).close()
        assert web.process.wait(timeout=gunicorn_config.graceful_timeout) == 0
    finally:
        for client in waiting:
            client.close()
        web.kill()


# --- scripts/release -------------------------------------------------------------------------------
@pytest.fixture
def empty_database(tmp_path):
    """A database with no tables: a scratch Postgres database when the suite runs on Postgres, else SQLite."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'release.sqlite3'}"
        return
    import psycopg

    parts = urllib.parse.urlsplit(external.postgres_url())
    name = f"release_{uuid.uuid4().hex[:12]}"
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_release_migrates_then_exits_without_serving(empty_database):
    port = external.free_port()
    env = child.app_env(empty_database, PORT=str(port))
    result = subprocess.run(
        [str(ROOT / "scripts" / "release")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Applying blog.0001_initial... OK" in result.stdout
    assert "Listening" not in result.stdout + result.stderr
    assert not external.port_open("127.0.0.1", port)

    # The tables exist, and nothing is left to apply.
    again = child.manage("migrate", "--check", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    code = "from django.db import connection; print(sorted(connection.introspection.table_names()))"
    tables = child.manage("shell", "-c", code, env={**env, "LOG_LEVEL": "ERROR"})
    assert tables.returncode == 0, tables.stderr
    for table in ("blog_post", "blog_comment", "auth_user", "django_migrations"):
        assert f"'{table}'" in tables.stdout


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is missing"),
        ({"JWT_SIGNING_KEY": "too-short-a-key"}, "JWT_SIGNING_KEY is shorter than 50 characters"),
        ({"JWT_SIGNING_KEY": harness.TEST_SECRET_KEY}, "JWT_SIGNING_KEY is the same as SECRET_KEY"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS contains '*'"),
    ],
    ids=["no-secret-key", "weak-jwt-key", "jwt-key-equal-to-secret-key", "any-host"],
)
def test_the_web_process_does_not_start_with_bad_keys_or_any_host(overrides, says):
    """The real entry point, not just manage.py: gunicorn exits instead of serving, naming the variable."""
    env = child.app_env(PORT=str(free_port()), **overrides)
    result = subprocess.run([str(harness.SCRIPTS_WEB)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert says in result.stdout + result.stderr
