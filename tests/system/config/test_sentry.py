"""Sentry, for real: scripts/web with SENTRY_DSN pointing at a local HTTP server standing in for
Sentry's ingest endpoint; an unhandled error in a view arrives there as an event, through the
real sentry-sdk transport."""

import gzip
import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest

from tests.support import child, harness
from tests.support.contract import error_message

pytestmark = pytest.mark.system

COMMIT = "9c1d4e5b6a7980a1b2c3d4e5f60718293a4b3f2a"
ENVIRONMENT = "staging-eu"
USER = {"username": "crash-reporter", "email": "crash-reporter@example.com", "password": "Cr4sh-Rep0rter-pw"}
COOKIE_SECRET = "cookie-value-that-must-stay-private"


class _Ingest(BaseHTTPRequestHandler):
    """Accepts envelopes as Sentry does and keeps their raw (decompressed) text."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.envelopes.append((self.path, body.decode()))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def ingest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _events(ingest) -> list[dict]:
    """Event items of every envelope received: an envelope is JSON lines (header, item header, payload...)."""
    events = []
    for _path, text in list(ingest.envelopes):
        for line in text.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and "exception" in item:
                events.append(item)
    return events


@pytest.fixture(scope="module")
def web(ingest, tmp_path_factory):
    """scripts/web on a migrated SQLite file holding one user, with the crash URLconf and SENTRY_DSN set."""
    workdir = tmp_path_factory.mktemp("sentry")
    (workdir / "static").mkdir()
    database_url = f"sqlite:///{workdir / 'db.sqlite3'}"
    env = child.app_env(
        database_url,
        SENTRY_DSN=f"http://publickey@127.0.0.1:{ingest.server_port}/1",
        SENTRY_ENVIRONMENT=ENVIRONMENT,
        RENDER_GIT_COMMIT=COMMIT,
        DJANGO_SETTINGS_MODULE="tests.support.crash_settings",
        WEB_CONCURRENCY="1",
        STATIC_ROOT=str(workdir / "static"),
    )
    assert child.manage("migrate", "--noinput", env=env).returncode == 0
    created = child.manage(
        "createsuperuser",
        "--noinput",
        env={
            **env,
            "DJANGO_SUPERUSER_USERNAME": USER["username"],
            "DJANGO_SUPERUSER_EMAIL": USER["email"],
            "DJANGO_SUPERUSER_PASSWORD": USER["password"],
        },
    )
    assert created.returncode == 0, created.stderr
    with harness.Gunicorn.start(env, workdir) as server:
        yield server


@pytest.fixture(scope="module")
def crash(web, ingest):
    """One authenticated request, with a cookie, to a view that raises; the response and the event it caused."""
    token = harness.request(
        "POST", web.url + "/api/auth/token/", json_body={"username": USER["username"], "password": USER["password"]}
    )
    assert token.status == 200, token.body
    access = token.json()["access"]
    headers = {"Authorization": f"Bearer {access}", "Cookie": f"sessionid={COOKIE_SECRET}"}
    response = harness.request("GET", web.url + "/crash/?page=2", headers=headers)
    # The transport sends from a background thread: wait for the event (not a timing assertion).
    deadline = time.monotonic() + 30
    while not _events(ingest) and time.monotonic() < deadline:
        time.sleep(0.1)
    events = _events(ingest)
    assert events, f"no event reached the ingest server; gunicorn said:\n{web.output()[-3000:]}"
    raw = "\n".join(text for _path, text in ingest.envelopes)
    return response, events, raw, access


def test_the_client_gets_a_json_500(crash):
    response, *_ = crash
    assert response.header("Content-Type") == "application/json"
    assert error_message(response, 500) == "Internal server error."


def test_the_event_names_the_exception_environment_and_release(crash, ingest):
    _, events, _, _ = crash
    assert len(events) == 1
    (event,) = events
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "CrashTestError"
    assert exception["value"] == "deliberate failure for the error-reporting test"
    assert event["environment"] == ENVIRONMENT
    assert event["release"] == COMMIT
    assert event["request"]["url"].endswith("/crash/")
    assert ingest.envelopes[0][0] == "/api/1/envelope/"


def test_the_event_carries_no_personal_data(crash):
    _, events, raw, access = crash
    (event,) = events
    # send_default_pii=False: no cookies, no credentials, no user identity.
    for secret in (COOKIE_SECRET, access, USER["email"], USER["username"], USER["password"]):
        assert secret not in raw
    assert "cookies" not in event["request"]
    headers = {name.lower(): value for name, value in event["request"].get("headers", {}).items()}
    assert headers.get("authorization") in (None, "[Filtered]")
    assert headers.get("cookie") in (None, "[Filtered]")
    assert not (event.get("user") or {}).get("email")
