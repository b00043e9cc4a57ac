"""The project image run on a real Docker Engine the way a platform runs it: the tests of
tests/system/platforms/ (one module per platform) share this.

Made for ../shared/tools/compose-smoke, whose CMD runs with DOCKER_HOST set, the project image
loaded as `blog-api` (docker-compose.yml's `image:`) and the stand-ins `postgres:16` and
`redis:7`. Each deployment gets a network of its own (`docker network create`), a Postgres and
a Redis container as the platform's managed database and Key Value, one-off containers for the
release phase, and one long-running container per process (web, worker, beat) whose command
replaces the image's CMD as the manifest says. The test process reaches the web containers
through ports published on 127.0.0.1, as the platform's edge would reach the instance.
"""

import http.client
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field

import pytest
from django.core import signing

IMAGE = "blog-api"  # docker-compose.yml's `image:`: the name compose-smoke loads the build under
POSTGRES_IMAGE = "postgres:16"
REDIS_IMAGE = "redis:7"
DEADLINE = 90.0  # seconds: generous on a loaded 2-core machine, never reached when things work
ON_ENGINE = bool(os.environ.get("DOCKER_HOST"))
PHASE = os.environ.get("SMOKE_PHASE", "")


def engine_only():
    """The mark of every platform module: it needs the engine, and runs in compose-smoke's first phase only."""
    return [
        pytest.mark.skipif(
            not ON_ENGINE,
            reason="DOCKER_HOST is not set: this module runs the project image on a Docker Engine; "
            "run it under ../shared/tools/compose-smoke (see tests/system/platforms/__init__.py)",
        ),
        pytest.mark.skipif(
            ON_ENGINE and PHASE not in ("", "first"), reason="the platform modules run in the first phase only"
        ),
    ]


def docker(*args: str, check: bool = True, timeout: float = 180, input: str | None = None):
    result = subprocess.run(
        ["docker", *args], input=input, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check:
        assert result.returncode == 0, f"docker {shlex.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def wait_until(condition, what: str, timeout: float = DEADLINE, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {timeout:.0f}s for {what}"
        time.sleep(interval)


def secret_key() -> str:
    return secrets.token_urlsafe(50)


def password() -> str:
    return secrets.token_hex(16)


# --- Containers ----------------------------------------------------------------------------------
@dataclass
class Container:
    name: str
    network: str

    def inspect(self) -> dict:
        return json.loads(docker("inspect", self.name).stdout)[0]

    def address(self, v6: bool = False) -> str:
        settings = self.inspect()["NetworkSettings"]["Networks"][self.network]
        return settings["GlobalIPv6Address"] if v6 else settings["IPAddress"]

    def logs(self) -> str:
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def exec(self, *command: str, check: bool = True, timeout: float = 120):
        return docker("exec", self.name, *command, check=check, timeout=timeout)

    def running(self) -> bool:
        return self.inspect()["State"]["Running"]

    def exit_code(self) -> int:
        return self.inspect()["State"]["ExitCode"]

    def base_url(self, port: int) -> str:
        """http://127.0.0.1:<published>: the container's `port` as the test process reaches it."""
        out = docker("port", self.name, f"{port}/tcp").stdout.split()
        host_port = next(line.rsplit(":", 1)[1] for line in out if line.startswith("127.0.0.1:"))
        return f"http://127.0.0.1:{host_port}"

    def stop(self, signal: str, grace: float, every_process: bool = False) -> tuple[int, float]:
        """Stops it as a platform does: `signal`, then SIGKILL once `grace` seconds have passed.
        `every_process`: the signal goes to every process of the container (Heroku's dyno manager),
        not only its first one. Returns (exit code, seconds until it exited); 137 means killed."""
        started = time.monotonic()
        docker("kill", "--signal", signal, self.name)
        if every_process:
            self.exec("sh", "-c", f"kill -s {signal.removeprefix('SIG')} -1", check=False)
        while self.running() and time.monotonic() - started < grace:
            time.sleep(0.2)
        if self.running():
            docker("kill", "--signal", "SIGKILL", self.name, check=False)
            wait_until(lambda: not self.running(), f"{self.name} to die", timeout=30)
        return self.exit_code(), time.monotonic() - started


@dataclass
class Deployment:
    """One emulated deployment: a network, its containers, and their removal at the end."""

    platform: str
    ipv6_subnet: str | None = None
    containers: list[Container] = field(default_factory=list)
    network: str = ""

    def __post_init__(self):
        self.network = f"platform-{self.platform}-{secrets.token_hex(3)}"
        args = ["network", "create"]
        if self.ipv6_subnet:
            args += ["--ipv6", "--subnet", self.ipv6_subnet]
        docker(*args, self.network)

    def run(
        self,
        role: str,
        command: list[str] | None,
        env: dict[str, str],
        *,
        image: str = IMAGE,
        aliases: tuple[str, ...] = (),
        publish: int | None = None,
        hosts: dict[str, str] | None = None,
        options: tuple[str, ...] = (),
    ) -> Container:
        """A long-running container; `command` replaces the image's CMD (None keeps it)."""
        name = f"{self.network}-{role}"
        args = ["run", "--detach", "--name", name, "--network", self.network]
        for alias in aliases:
            args += ["--network-alias", alias]
        for host, address in (hosts or {}).items():
            args += ["--add-host", f"{host}:{address}"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        if publish:
            args += ["--publish", f"127.0.0.1::{publish}"]
        docker(*args, *options, image, *(command or []))
        container = Container(name, self.network)
        self.containers.append(container)
        return container

    def one_off(
        self,
        role: str,
        command: list[str],
        env: dict[str, str],
        *,
        hosts: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess:
        """A temporary container from the same image (a release phase), run to its end and removed."""
        args = ["run", "--rm", "--name", f"{self.network}-{role}-{secrets.token_hex(2)}", "--network", self.network]
        for host, address in (hosts or {}).items():
            args += ["--add-host", f"{host}:{address}"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        return docker(*args, IMAGE, *command, check=False, timeout=timeout)

    def names(self) -> list[str]:
        out = docker("ps", "--all", "--filter", f"network={self.network}", "--format", "{{.Names}}").stdout
        return sorted(out.split())

    def close(self) -> None:
        names = self.names()
        if names:
            docker("rm", "--force", "--volumes", *names, check=False)
        docker("network", "rm", self.network, check=False)


# --- The managed database and Key Value (the stand-ins) ----------------------------------------
@dataclass
class Postgres:
    container: Container
    user: str
    password: str
    database: str

    def psql(self, sql: str, database: str | None = None) -> str:
        out = self.container.exec(
            "psql",
            "--username",
            self.user,
            "--dbname",
            database or self.database,
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-c",
            sql,
        ).stdout
        return out.strip()


def start_postgres(
    deployment: Deployment,
    *,
    aliases: tuple[str, ...] = (),
    user: str = "blog",
    database: str = "blog",
    args: tuple[str, ...] = (),
    prepare: str = "",
    ready_host: str = "127.0.0.1",
) -> Postgres:
    """The postgres:16 stand-in. `args` go to the server (`-c name=value`); `prepare` is a shell
    snippet run in the container (as root) before the server starts, e.g. making a certificate."""
    secret = password()
    env = {"POSTGRES_USER": user, "POSTGRES_PASSWORD": secret, "POSTGRES_DB": database}
    if prepare:
        entrypoint = json.loads(docker("image", "inspect", POSTGRES_IMAGE, "--format", "{{json .Config}}").stdout)
        start = shlex.join([*(entrypoint.get("Entrypoint") or []), *(entrypoint.get("Cmd") or ["postgres"]), *args])
        container = deployment.run(
            "db",
            ["sh", "-c", f"{prepare}\nexec {start}"],
            env,
            image=POSTGRES_IMAGE,
            aliases=aliases,
            options=("--entrypoint", ""),
        )
    else:
        command = list(args) and ["postgres", *args]
        container = deployment.run("db", command or None, env, image=POSTGRES_IMAGE, aliases=aliases)
    wait_until(
        lambda: (
            container.exec(
                "pg_isready", "--host", ready_host, "--username", user, "--dbname", database, check=False
            ).returncode
            == 0
        ),
        "the database to accept connections",
    )
    return Postgres(container, user, secret, database)


def start_redis(deployment: Deployment, *, aliases: tuple[str, ...] = (), args: tuple[str, ...] = ()) -> Container:
    """The redis:7 stand-in: a broker that never evicts (as each manifest asks of the managed one)."""
    container = deployment.run(
        "redis",
        ["redis-server", "--protected-mode", "no", "--maxmemory-policy", "noeviction", *args],
        {},
        image=REDIS_IMAGE,
        aliases=aliases,
    )
    return container


# --- HTTP as the platform's edge sends it ------------------------------------------------------
@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def request(
    base: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    body=None,
    timeout: float = 30.0,
) -> Response:
    """One request on a new connection, redirects not followed; `headers` may set Host."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    sent = dict(headers or {})
    data = None
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        connection.putrequest(method, path, skip_host="Host" in sent, skip_accept_encoding=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        if data is not None:
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        answer = connection.getresponse()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
    finally:
        connection.close()


def wait_for_health(base: str, path: str, headers: dict[str, str]) -> Response:
    def answered():
        try:
            response = request(base, "GET", path, headers=headers, timeout=5)
        except (OSError, http.client.HTTPException):
            return None
        return response if response.status == 200 else None

    return wait_until(answered, f"GET {path} to answer 200")


def request_in_flight_at_stop(
    base: str,
    container: Container,
    *,
    headers: dict[str, str],
    token: str,
    signal: str,
    grace: float,
    every_process: bool = False,
):
    """POST /api/posts/ whose body is still arriving when the platform stops the instance: the
    headers and half the body, then the stop signal, then (2 s later) the rest. Returns
    (status, post id or None, exit code, seconds the instance took to exit)."""
    body = json.dumps({"title": f"In flight {secrets.token_hex(3)}", "body": "Sent across a stop."}).encode()
    url = urllib.parse.urlsplit(base)
    head = (
        f"POST /api/posts/ HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(1.0)  # the worker has taken the request and waits for the rest of its body
        import threading

        outcome = {}
        stopper = threading.Thread(
            target=lambda: outcome.update(stop=container.stop(signal, grace, every_process=every_process))
        )
        stopper.start()
        time.sleep(2.0)
        sock.sendall(body[len(body) // 2 :])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        stopper.join(timeout=grace + 60)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    payload = answer.partition(b"\r\n\r\n")[2]
    post_id = json.loads(payload)["id"] if status == 201 else None
    exit_code, seconds = outcome["stop"]
    return status, post_id, exit_code, seconds


# --- The user flow -----------------------------------------------------------------------------
@dataclass
class User:
    id: int
    username: str
    email: str
    access: str


def sign_up(base: str, headers: dict[str, str], name: str) -> User:
    username = f"{name}-{secrets.token_hex(4)}"
    email, secret = f"{username}@example.test", f"A long passphrase for {username}"
    credentials = {"username": username, "password": secret}
    created = request(base, "POST", "/api/auth/register/", headers=headers, body={**credentials, "email": email})
    assert created.status == 201, (created.status, created.body[:500])
    tokens = request(base, "POST", "/api/auth/token/", headers=headers, body=credentials)
    assert tokens.status == 200, (tokens.status, tokens.body[:500])
    return User(created.json()["id"], username, email, tokens.json()["access"])


def emails_in(log: str, title: str) -> int:
    """Emails the default (log record) email backend wrote for a post, one Subject line each."""
    return len(re.findall(rf"Subject: New post by [\w.@+-]+: {re.escape(title)}(?:\\n|\n|\")", log))


def verification_token(log: str, user: User) -> str | None:
    """The token of the verification link mailed to the user (the log record email backend writes
    each email to the worker's log), found by the account its claims name."""
    for quoted in re.findall(r"token=([\w%.:-]+)", log):
        token = urllib.parse.unquote(quoted)
        try:
            claims = json.loads(signing.b64_decode(token.split(":")[0].encode()))
        except ValueError:
            continue
        if isinstance(claims, dict) and claims.get("user") == user.id:
            return token
    return None


def verify_email(base: str, headers: dict[str, str], worker: Container, user: User) -> None:
    """Follow the link of the user's verification email: only a verified address is emailed."""
    token = wait_until(
        lambda: verification_token(worker.logs(), user), f"the verification email of {user.username} in the log"
    )
    verified = request(base, "POST", "/api/auth/email/verify/", headers=headers, body={"token": token})
    assert verified.status == 200 and verified.json()["email_verified"] is True, verified.body[:500]


def become_public(base: str, headers: dict[str, str], author: User) -> None:
    """Only an author with a published post can be followed."""
    body = {"title": f"Hello from {author.username}", "body": "A first post."}
    created = request(base, "POST", "/api/posts/", headers=headers, token=author.access, body=body)
    assert created.status == 201, (created.status, created.body[:500])
    post_id = created.json()["id"]
    published = request(base, "POST", f"/api/posts/{post_id}/publish/", headers=headers, token=author.access)
    assert published.status == 200, (published.status, published.body[:500])


def whole_user_flow(base: str, headers: dict[str, str], worker: Container, db: Postgres) -> dict:
    """Sign up an author and a reader; the reader verifies the address from the mailed link, the
    author publishes a first post, the reader follows, the author writes and publishes; the
    reader's notification is delivered by `worker` (its email in that container's log, the row
    emailed) and listed by the API. Returns what happened, for the test's message."""
    author, reader = sign_up(base, headers, "author"), sign_up(base, headers, "reader")
    verify_email(base, headers, worker, reader)
    become_public(base, headers, author)
    follow = request(
        base, "POST", "/api/subscriptions/", headers=headers, token=reader.access, body={"author": author.id}
    )
    assert follow.status == 201, (follow.status, follow.body[:500])
    title = f"Deployed post {secrets.token_hex(3)}"
    created = request(
        base,
        "POST",
        "/api/posts/",
        headers=headers,
        token=author.access,
        body={"title": title, "body": f"The text of {title}."},
    )
    assert created.status == 201, (created.status, created.body[:500])
    post_id = created.json()["id"]
    draft = request(base, "GET", f"/api/posts/{post_id}/", headers=headers, token=reader.access)
    assert draft.status == 404  # a draft is its author's only
    published_at = time.monotonic()
    published = request(base, "POST", f"/api/posts/{post_id}/publish/", headers=headers, token=author.access)
    assert published.status == 200 and published.json()["published"] is True, published.body[:500]

    wait_until(lambda: emails_in(worker.logs(), title), f"the email of post {post_id} in the worker's log")
    delivered = time.monotonic() - published_at
    assert f"To: {reader.email}" in worker.logs()
    wait_until(
        lambda: db.psql(f"SELECT notifications_pending FROM blog_post WHERE id = {post_id}") == "f",
        "the outbox to drain",
    )
    rows = db.psql(f"SELECT recipient_id, emailed_at IS NOT NULL FROM blog_notification WHERE post_id = {post_id}")
    assert rows == f"{reader.id}|t"
    listed = request(base, "GET", "/api/notifications/", headers=headers, token=reader.access)
    assert listed.status == 200 and post_id in [item["post"] for item in listed.json()["results"]]
    read = request(base, "GET", f"/api/posts/{post_id}/", headers=headers, token=reader.access)
    assert read.status == 200 and read.json()["title"] == title
    return {"author": author, "reader": reader, "post": post_id, "delivered": delivered}


def django_value(container: Container, expression: str) -> str:
    """An expression evaluated in `container` with Django set up from its own environment (a
    process of the deployment would see the same)."""
    code = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); "
        f"from django.conf import settings; import sentry_sdk; print({expression})"
    )
    return container.exec("python", "-c", code).stdout.strip().splitlines()[-1]


def conflicting_table_database(db: Postgres, name: str) -> None:
    """A database where the first migration cannot run: the table it creates is already there
    (as a half-restored dump leaves it). A release against it fails in `migrate`."""
    db.psql(f"CREATE DATABASE {name}")
    db.psql("CREATE TABLE django_content_type (id integer)", database=name)
