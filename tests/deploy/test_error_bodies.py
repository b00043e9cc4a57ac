"""The errors nginx and gunicorn answer themselves are of the app's one error shape (api/errors.py):
a client parses every error body with one type, whoever wrote it."""

import json
import re
import socket

import jsonschema
import pytest
import yaml

from api.errors import error_json
from config import gunicorn_worker
from tests.support import manifests
from tests.support.contract import assert_error_shape

# Every `return CODE '...'` nginx.conf answers itself.
NGINX_RETURN = re.compile(r"return (?P<status>[45]\d\d) '(?P<body>[^']*)'")


def nginx_bodies():
    return [(int(m["status"]), m["body"]) for m in NGINX_RETURN.finditer(manifests.NGINX.read_text())]


def documented(status: int):
    """The schema's component for a status as plain JSON Schema, or None where it is undocumented."""
    components = yaml.safe_load(manifests.SCHEMA_SNAPSHOT.read_text())["components"]["schemas"]
    if f"ErrorResponse{status}" not in components:
        return None
    return _json_schema({"$ref": f"#/components/schemas/ErrorResponse{status}"}, components)


def _json_schema(schema, components):
    """OpenAPI 3.0 to JSON Schema: `$ref`s inlined, `nullable: true` as a null alternative."""
    if isinstance(schema, list):
        return [_json_schema(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _json_schema(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    converted = {key: _json_schema(value, components) for key, value in schema.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if schema.get("nullable") else converted


def validate(body: dict, status: int):
    assert_error_shape(body, status)
    component = documented(status)
    if component is not None:
        jsonschema.validate(body, component)


def test_nginx_answers_errors_itself_for_the_expected_statuses():
    assert sorted(status for status, _ in nginx_bodies()) == [403, 404, 413, 414, 429, 431, 502, 504]


@pytest.mark.parametrize(("status", "raw"), nginx_bodies(), ids=lambda v: str(v)[:3])
def test_each_nginx_body_is_the_apps_error_shape(status, raw):
    assert raw.endswith("\\n"), "nginx's bodies end with a newline, like the app's curl-friendly answers"
    body = json.loads(raw.removesuffix("\\n"))
    validate(body, status)
    (error,) = body["errors"]
    assert body == json.loads(error_json(status, error["code"], error["detail"])), "not what api/errors.py writes"


@pytest.mark.parametrize(
    ("status", "reason"),
    [(400, "Bad Request"), (414, "Request-URI Too Long"), (431, "Request Header Fields Too Large")],
)
def test_gunicorns_own_errors_are_the_apps_error_shape(status, reason):
    server, client = socket.socketpair()
    with server, client:
        gunicorn_worker.write_json_error(server, status, reason, "the request, never echoed")
        server.shutdown(socket.SHUT_WR)
        raw = b"".join(iter(lambda: client.recv(4096), b""))
    body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    validate(body, status)
    assert body == json.loads(error_json(status, body["errors"][0]["code"], f"{reason}."))
