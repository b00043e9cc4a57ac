"""Run as a child process by support.send(): requests through the whole Django stack, in a process
whose settings come from its own environment.

stdin: a JSON list of requests, each {"method", "path", "headers"?: {}, "json"?: ..., "remote_addr"?}.
argv[1]: the file the responses are written to, as a JSON list of
{"status", "headers": {lower-case name: value}, "cookies": {name: {"secure", "httponly"}}, "body"}.
The file, not stdout: the app's own log lines go to stdout.
"""

import json
import sys
from pathlib import Path

import django


def main() -> None:
    django.setup()
    from django.test import Client

    # Like a real server: an exception becomes handler500's response, not a test failure.
    client = Client(raise_request_exception=False)
    responses = []
    for spec in json.load(sys.stdin):
        headers = {"Host": "localhost", **spec.get("headers", {})}
        body = json.dumps(spec["json"]) if "json" in spec else ""
        response = client.generic(
            spec["method"],
            spec["path"],
            data=body,
            content_type="application/json",
            headers=headers,
            REMOTE_ADDR=spec.get("remote_addr", "127.0.0.1"),
        )
        responses.append(
            {
                "status": response.status_code,
                "headers": {name.lower(): value for name, value in response.headers.items()},
                "cookies": {
                    name: {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"])}
                    for name, morsel in response.cookies.items()
                },
                "body": response.content.decode(errors="replace"),
            }
        )
    Path(sys.argv[1]).write_text(json.dumps(responses))


if __name__ == "__main__":
    main()
