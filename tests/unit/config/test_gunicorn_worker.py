"""config/gunicorn_worker.py in process: the JSON error page gunicorn sends for what it refuses itself."""

import json
import socket

from api.errors import error_json
from config import gunicorn_worker


def test_gunicorns_error_page_is_json_and_never_echoes_the_request():
    """config/gunicorn_worker.write_json_error, on a real socket: gunicorn passes it a message
    quoting the client's input, which must not be reflected back."""
    server, client = socket.socketpair()
    with server, client:
        gunicorn_worker.write_json_error(server, 400, "Bad Request", "Invalid header '<script>alert(1)</script>'")
        server.shutdown(socket.SHUT_WR)
        raw = b"".join(iter(lambda: client.recv(4096), b""))
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 400 Bad Request"
    assert b"Content-Type: application/json" in head and f"Content-Length: {len(body)}".encode() in head
    # The app's one error shape, as api/errors.py writes it.
    assert json.loads(body) == json.loads(error_json(400, "bad_request", "Bad Request."))
