"""Logs: with LOG_JSON=true every line the web process writes is one JSON object, and every line
about a request carries its request id (the proxy's X-Request-ID, or a generated one).
The middleware itself, in process: tests/unit/config/test_request_id.py."""

import json
import re
import subprocess

import pytest

from tests.support import child, harness
from tests.support.external import ROOT, free_port, wait_for_http

pytestmark = pytest.mark.system


GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")  # as the request-id middleware makes one


# --- A real gunicorn with LOG_JSON=true ------------------------------------------------------------
@pytest.fixture(scope="module")
def json_logs(tmp_path_factory):
    """scripts/web with LOG_JSON=true; a few requests; then stopped, and its stdout and stderr read."""
    workdir = tmp_path_factory.mktemp("logs")
    (workdir / "static").mkdir()
    port = free_port()
    env = child.app_env(LOG_JSON="true", WEB_CONCURRENCY="1", PORT=str(port), STATIC_ROOT=str(workdir / "static"))
    stdout, stderr = workdir / "stdout.log", workdir / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(harness.SCRIPTS_WEB)], cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
        )
    web = harness.Gunicorn(process=process, port=port, log_path=stdout, env=env)
    try:
        wait_for_http(f"{web.url}/health/", process=process)
        responses = {
            "given": harness.request("GET", web.url + "/api/no-such-thing/", headers={"X-Request-ID": "trace-abc-123"}),
            "invalid": harness.request("GET", web.url + "/nowhere/", headers={"X-Request-ID": "not a valid id"}),
        }
    finally:
        assert web.stop() == 0
    return responses, stdout.read_text(), stderr.read_text()


def _records(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)  # a line that is not JSON fails here, showing itself
            assert isinstance(record, dict), line
            records.append(record)
    return records


def test_every_line_is_a_json_object_with_level_logger_and_message(json_logs):
    _, stdout, stderr = json_logs
    records = _records(stdout) + _records(stderr)
    assert records
    for record in records:
        assert {"time", "level", "logger", "message", "request_id"} <= record.keys(), record
    loggers = {record["logger"] for record in records}
    # The app's lines and gunicorn's own (start-up, access) alike.
    assert {"django.request", "gunicorn.error", "gunicorn.access"} <= loggers


def test_the_lines_about_a_request_carry_the_proxys_request_id(json_logs):
    responses, stdout, _ = json_logs
    assert responses["given"].status == 404
    assert responses["given"].header("X-Request-ID") == "trace-abc-123"
    mine = [record for record in _records(stdout) if record["request_id"] == "trace-abc-123"]
    assert [(record["level"], record["logger"]) for record in mine] == [
        ("WARNING", "django.request"),
        ("INFO", "gunicorn.access"),
    ]
    assert mine[0]["message"] == "Not Found: /api/no-such-thing/"
    assert '"GET /api/no-such-thing/ HTTP/1.1" 404' in mine[1]["message"]


def test_an_invalid_request_id_is_replaced_in_the_response_and_the_logs(json_logs):
    responses, stdout, _ = json_logs
    generated = responses["invalid"].header("X-Request-ID")
    assert GENERATED_ID.match(generated)
    assert "not a valid id" not in stdout
    mine = [record for record in _records(stdout) if record["request_id"] == generated]
    assert [record["logger"] for record in mine] == ["django.request", "gunicorn.access"]
