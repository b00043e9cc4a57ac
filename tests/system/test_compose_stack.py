"""The self-hosting stack for real: docker-compose.yml on a Docker Engine with Compose v2,
driven the way docs/self-hosting.md tells a self-hoster to, through nginx.

It needs a running stack and is made to be run by ../shared/tools/compose-smoke, which brings
the stack up from a copy of the project, runs this module (first phase), stops the stack,
starts it again on the same volumes and runs it again (restarted phase):

    ../shared/tools/compose-smoke -- bash -c \\
      'exec "$0" -m pytest tests/system/test_compose_stack.py -s -k "Test${SMOKE_PHASE^}Phase"' \\
      "$PWD/.venv/bin/python"

(.ci/run does exactly this.) The tool sets BASE_URL (nginx), SMOKE_PHASE, DOCKER_HOST,
COMPOSE_PROJECT_NAME and COMPOSE_FILE; without DOCKER_HOST every test here is skipped with
that reason, under CI too: the ordinary `scripts/test` run happens outside the tool, and
.ci/run's compose step is what runs this module, where nothing may skip.

The first phase is one self-hoster's day, in order: two users, a follow, a post, its
notification through the compose worker; static files and the docs from nginx; readiness;
JSON logs; the self-hosting page's one-off commands (createsuperuser, pg_dump and its restore); the
image alone with `docker run` on the stack's network; a second web replica and a stop under
load; and the container faults (a worker crash mid-notification, a database restart, Redis
stopped). The restarted phase checks that everything survived `down` + `up`, that the
release ran again and changed nothing, and how long a warm `up --wait` takes.
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import shlex
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.contract import error_message
from tests.support.external import free_port

ROOT = Path(__file__).resolve().parents[2]
SELF_HOSTING = ROOT / "docs" / "self-hosting.md"
# The stack's own folder (compose-smoke's copy of the project, with the .env it made).
STACK = Path(os.environ.get("COMPOSE_FILE", ROOT / "docker-compose.yml")).parent
BASE_URL = os.environ.get("BASE_URL", "")
PHASE = os.environ.get("SMOKE_PHASE", "")
PROJECT = os.environ.get("COMPOSE_PROJECT_NAME", "")
# Where the first phase leaves what the restarted phase checks (the same machine, another run).
STATE = Path(tempfile.gettempdir()) / f"compose-stack-{PROJECT or 'none'}.json"

APP_SERVICES = ("release", "web", "worker", "beat")
DEADLINE = 60.0  # seconds: generous on a loaded 2-core machine, never reached when things work
# A notification whose task was lost (a crashed worker, Redis down) waits for beat's outbox
# sweep: every OUTBOX_SWEEP_SECONDS (60 s), for posts published at least that long ago.
SWEEP_DEADLINE = 2 * 60 + 30.0
WARM_UP_LIMIT = 45.0  # seconds for `docker compose up -d --wait` on a warm machine

ON_STACK = bool(os.environ.get("DOCKER_HOST"))
pytestmark = pytest.mark.skipif(
    not ON_STACK,
    reason="DOCKER_HOST is not set: this module drives a running compose stack; "
    "run it under ../shared/tools/compose-smoke (see its docstring)",
)


# --- Docker and Compose ---------------------------------------------------------------------
def run(*command: str, env: dict | None = None, input: str | None = None, timeout: float = 180, check=True):
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, f"{shlex.join(command)} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def compose(*args: str, **kwargs):
    return run("docker", "compose", *args, **kwargs)


def logs(service: str) -> str:
    return compose("logs", "--no-color", "--no-log-prefix", service).stdout


def containers(service: str, all_states=False) -> list[dict]:
    """`docker compose ps` of one service, one dict per container (replicas in order)."""
    args = ["ps", "--format", "json"] + (["--all"] if all_states else []) + ([service] if service else [])
    out = compose(*args).stdout.strip()
    if out.startswith("["):  # older Compose: one JSON array
        return sorted(json.loads(out), key=lambda row: row["Name"])
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return sorted(rows, key=lambda row: row["Name"])


def inspect(container: str) -> dict:
    return json.loads(run("docker", "inspect", container).stdout)[0]


def psql(sql: str, database: str = "blog") -> str:
    """Runs SQL in the db service as the stack's own user; returns psql's unaligned output."""
    result = compose("exec", "-T", "db", "psql", "--username", "blog", "--dbname", database, "-v", "ON_ERROR_STOP=1",
                     "-At", "-c", sql)  # fmt: skip
    return result.stdout.strip()


def dotenv() -> dict[str, str]:
    """The stack's .env (made by the self-hoster, here by compose-smoke from .env.example)."""
    values = {}
    for line in (STACK / ".env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def readme_block(after: str) -> list[str]:
    """The commands of the self-hosting page's first ```sh block after the line `after`, continuation lines
    joined, comments dropped: what the test runs is what the page says."""
    text = SELF_HOSTING.read_text()
    start = text.index(after)
    block = text[text.index("```sh\n", start) + len("```sh\n") :]
    block = block[: block.index("```")]
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            commands.append(line)
    return commands


# --- HTTP through nginx -----------------------------------------------------------------------
@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def request(method: str, path: str, *, token: str | None = None, body=None, base: str = "", headers=None,
            timeout: float = 30.0, form: dict | None = None) -> Response:  # fmt: skip
    """One request, redirects not followed, a new connection each time (as a client behind nginx)."""
    url = urllib.parse.urlsplit((base or BASE_URL) + path)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    sent = dict(headers or {})
    data = None
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, url.path + (f"?{url.query}" if url.query else ""), body=data, headers=sent)
        answer = connection.getresponse()
        headers = {}
        for name, value in answer.getheaders():
            headers[name.lower()] = f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
        return Response(answer.status, headers, answer.read())
    finally:
        connection.close()


def call(method: str, path: str, expect: int | None = None, **kwargs) -> Response:
    response = request(method, path, **kwargs)
    if expect is not None:
        assert response.status == expect, (method, path, response.status, response.body[:500])
    return response


def wait_until(condition, what: str, timeout: float = DEADLINE, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {timeout:.0f}s for {what}"
        time.sleep(interval)


@dataclass
class User:
    id: int
    username: str
    email: str
    password: str
    access: str


def sign_up(name: str) -> User:
    """Register and sign in through nginx, as the API page's walk-through does."""
    username = f"{name}-{secrets.token_hex(4)}"
    email, password = f"{username}@example.test", f"A long passphrase for {username}"
    credentials = {"username": username, "password": password}
    created = call("POST", "/api/auth/register/", 201, body={**credentials, "email": email}).json()
    tokens = call("POST", "/api/auth/token/", 200, body=credentials).json()
    return User(created["id"], username, email, password, tokens["access"])


def write_post(author: User, title: str, base: str = "") -> int:
    body = {"title": title, "body": f"The text of {title}."}
    return call("POST", "/api/posts/", 201, token=author.access, body=body, base=base).json()["id"]


def publish(author: User, post_id: int, base: str = "", timeout: float = 30.0) -> Response:
    return request("POST", f"/api/posts/{post_id}/publish/", token=author.access, base=base, timeout=timeout)


def emails_in(log: str, title: str) -> int:
    """Emails the console backend wrote for a post (one Subject line each)."""
    return len(re.findall(rf"Subject: New post by [\w.@+-]+: {re.escape(title)}(?:\\n|\n|\")", log))


def notification_rows(post_id: int) -> list[tuple[int, bool]]:
    """(recipient, emailed) for each notification row of a post."""
    out = psql(f"SELECT recipient_id, emailed_at IS NOT NULL FROM blog_notification WHERE post_id = {post_id}")
    return [(int(recipient), flag == "t") for recipient, flag in (line.split("|") for line in out.splitlines())]


def pending(post_id: int) -> bool:
    return psql(f"SELECT notifications_pending FROM blog_post WHERE id = {post_id}") == "t"


def assert_notified_exactly_once(post_id: int, title: str, reader: User, worker_logs=lambda: logs("worker")) -> float:
    """The outbox drained, one notification row (emailed) for the reader, one email in the logs."""
    started = time.monotonic()
    wait_until(lambda: not pending(post_id), f"post {post_id}'s notifications", timeout=SWEEP_DEADLINE, interval=1)
    waited = time.monotonic() - started
    assert notification_rows(post_id) == [(reader.id, True)]
    assert emails_in(worker_logs(), title) == 1
    listed = call("GET", "/api/notifications/", 200, token=reader.access).json()["results"]
    assert post_id in [item["post"] for item in listed]
    return waited


def table_fingerprints(database: str = "blog") -> dict[str, str]:
    """Row count and an md5 of every row (in primary key order) of each table of the database."""
    tables = psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database).split()
    query = " UNION ALL ".join(
        f"SELECT '{table}', count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') "
        f"FROM {table} t"
        for table in tables
    )
    return dict(line.split("|", 1) for line in psql(query, database).splitlines())


# --- A bounded load through nginx ---------------------------------------------------------------
@dataclass
class Load:
    """`len(tokens)` clients, one user each (THROTTLE_USER_RATE counts per user), each sending
    at most `rate` requests a second, cycling GET /api/posts/ and POST /api/posts/ until stop();
    each waits for the answer to its last request, so every write sent has a known outcome."""

    tokens: list[str]
    tag: str
    rate: float = 4.0
    outcomes: list[tuple[str, int | None, int | None, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = 0.0
    seconds: float = 0.0

    def __enter__(self):
        self.started = time.monotonic()
        for number, token in enumerate(self.tokens):
            thread = threading.Thread(target=self._client, args=(number, token), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self.seconds = time.monotonic() - self.started

    def wait_for(self, count: int) -> None:
        wait_until(lambda: len(self.outcomes) >= count, f"{count} answers under load", interval=0.1)

    def _client(self, number: int, token: str) -> None:
        sent = 0
        while not self._stop.is_set():
            began = time.monotonic()
            if sent % 2:
                body = {"title": f"{self.tag}-{number}-{sent}", "body": "Under load."}
                method, path = "POST", "/api/posts/"
            else:
                method, path, body = "GET", "/api/posts/?page_size=10", None
            try:
                response = request(method, path, token=token, body=body, timeout=40)
                status = response.status
                created = response.json()["id"] if status == 201 else None
            except (OSError, http.client.HTTPException):
                status, created = None, None
            with self._lock:
                self.outcomes.append((method, status, created, time.monotonic() - began))
            sent += 1
            time.sleep(max(0.0, 1 / self.rate - (time.monotonic() - began)))

    def failures(self):
        return [outcome for outcome in self.outcomes if outcome[1] not in (200, 201)]

    def created(self) -> set[int]:
        return {outcome[2] for outcome in self.outcomes if outcome[2] is not None}

    def summary(self) -> str:
        latencies = sorted(outcome[3] for outcome in self.outcomes) or [0.0]
        statuses = {}
        for outcome in self.outcomes:
            statuses[outcome[1]] = statuses.get(outcome[1], 0) + 1
        return (
            f"{len(self.outcomes)} requests from {len(self.tokens)} clients in {self.seconds:.1f}s, "
            f"statuses {statuses}, p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms"
        )


def tokens_for_new_users(prefix: str, count: int) -> list[tuple[int, str]]:
    """Users made in the web container with manage.py shell (not through /api/auth/, which
    nginx limits to 10 a minute per address), with an access token each."""
    code = (
        "import json; from django.contrib.auth import get_user_model; "
        "from rest_framework_simplejwt.tokens import RefreshToken; "
        f"users = [get_user_model().objects.create_user('{prefix}-%d' % n) for n in range({count})]; "
        "print(json.dumps([[u.pk, str(RefreshToken.for_user(u).access_token)] for u in users]))"
    )
    out = compose("exec", "-T", "web", "python", "manage.py", "shell", "-c", code).stdout
    return [tuple(pair) for pair in json.loads(out.strip().splitlines()[-1])]


# --- The first phase ----------------------------------------------------------------------------
@dataclass
class Day:
    author: User
    reader: User
    posts: dict[str, int] = field(default_factory=dict)  # title -> id, every post made
    figures: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="class")
def day():
    assert BASE_URL and PROJECT, "compose-smoke sets BASE_URL and COMPOSE_PROJECT_NAME"
    author, reader = sign_up("author"), sign_up("reader")
    call("POST", "/api/subscriptions/", 201, token=reader.access, body={"author": author.id})  # the reader follows
    return Day(author=author, reader=reader)


@pytest.mark.skipif(ON_STACK and PHASE not in ("", "first"), reason="the first phase's tests (SMOKE_PHASE=first)")
class TestFirstPhase:
    def test_a_follower_is_notified_of_a_post_through_the_compose_worker(self, day):
        followed = call("GET", "/api/subscriptions/", 200, token=day.reader.access).json()["results"]
        assert [item["author"] for item in followed] == [day.author.id]
        title = "Self-hosted, first post"
        post_id = day.posts[title] = write_post(day.author, title)
        assert call("GET", f"/api/posts/{post_id}/", token=day.reader.access).status == 404  # a draft
        published_at = time.monotonic()
        assert publish(day.author, post_id).json()["published"] is True

        wait_until(lambda: emails_in(logs("worker"), title), "the worker's email (docker compose logs worker)")
        day.figures["notification delivered"] = f"{time.monotonic() - published_at:.2f}s after the publish"
        print(f"\nnotification: email in `docker compose logs worker` {day.figures['notification delivered']}")
        log = logs("worker")
        assert f"To: {day.reader.email}" in log
        assert_notified_exactly_once(post_id, title, day.reader)
        assert call("GET", f"/api/posts/{post_id}/", 200, token=day.reader.access).json()["title"] == title

    def test_static_files_and_the_docs_come_from_nginx(self, day):
        css = call("GET", "/static/admin/css/base.css", 200)
        assert css.header("Cache-Control") == "public, max-age=3600"  # nginx.conf's /static/ location
        docs = call("GET", "/api/docs/", 200)
        assert docs.header("Content-Type").startswith("text/html")
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.body.decode())
        assert any("swagger-ui" in asset for asset in assets), assets
        for asset in assets:
            answer = call("GET", asset, 200)
            assert "immutable" in answer.header("Cache-Control"), (asset, answer.headers)  # hashed names
        call("GET", "/api/schema/", 200)
        # nginx's access log: the static files were its own (no upstream), the docs page web's.
        access = logs("nginx")
        for asset in ["/static/admin/css/base.css", *assets]:
            assert re.search(rf'"GET {re.escape(asset)} HTTP/1\.1" 200 .* upstream=- ', access), asset
        assert re.search(r'"GET /api/docs/ HTTP/1\.1" 200 .* upstream=[\d.]+:8000 ', access)

    def test_readiness_reports_the_database_its_migrations_and_redis(self, day):
        ready = call("GET", "/ready/", 200).json()
        assert ready == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "redis": "ok"}}
        assert call("GET", "/health/", 200).json() == {"status": "ok"}

    def test_every_app_service_logs_json_lines(self, day):
        for service in APP_SERVICES:
            lines = [line for line in logs(service).splitlines() if line.strip()]
            assert lines, f"{service} logged nothing"
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    pytest.fail(f"{service} logged a line that is not JSON: {line[:300]!r}")
                assert {"time", "level", "logger", "message"} <= set(record), (service, record)
        web = [json.loads(line) for line in logs("web").splitlines() if line.strip()]
        assert any(record.get("request_id", "-") != "-" for record in web)  # nginx's X-Request-ID

    def test_createsuperuser_as_the_readme_says_and_the_admin_signs_in(self, day):
        [command] = [line for line in readme_block("One-off commands run") if "createsuperuser --noinput" in line]
        password = f"admin-{secrets.token_urlsafe(16)}"
        env = {"DJANGO_SUPERUSER_USERNAME": "admin", "DJANGO_SUPERUSER_EMAIL": "admin@example.test",
               "DJANGO_SUPERUSER_PASSWORD": password}  # fmt: skip
        result = run(*shlex.split(command), env=env)
        assert "Superuser created successfully." in result.stdout + result.stderr
        assert psql("SELECT is_superuser FROM auth_user WHERE username = 'admin'") == "t"
        assert containers("web")[0]["State"] == "running"  # `run --rm` left the service alone

        login = call("GET", "/admin/login/", 200)
        cookie = login.header("Set-Cookie")
        csrf_cookie = re.search(r"csrftoken=([^;]+)", cookie)[1]
        csrf_form = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.body.decode())[1]
        form = {"username": "admin", "password": password, "csrfmiddlewaretoken": csrf_form, "next": "/admin/"}
        headers = {"Cookie": f"csrftoken={csrf_cookie}", "Origin": BASE_URL, "Referer": BASE_URL + "/admin/login/"}
        signed_in = call("POST", "/admin/login/", 302, form=form, headers=headers)
        assert signed_in.header("Location") == "/admin/"
        session = re.search(r"sessionid=([^;]+)", signed_in.header("Set-Cookie"))[1]
        admin = call("GET", "/admin/", 200, headers={"Cookie": f"sessionid={session}"})
        assert b"Site administration" in admin.body

    def test_the_readme_backup_restores_with_the_same_rows_and_the_stack_runs_on_it(self, day, tmp_path):
        [backup] = [line for line in readme_block("One-off commands run") if "pg_dump" in line]
        command, _, target = backup.partition(" > ")
        dump = run(*shlex.split(command)).stdout
        (tmp_path / target).write_text(dump)
        assert "CREATE TABLE public.blog_post" in dump
        original = table_fingerprints("blog")

        def run_readme(commands: list[str]) -> None:
            for line in commands:
                command, _, source = line.partition(" < ")
                run(*shlex.split(command), input=(tmp_path / source).read_text() if source else None, timeout=300)

        # Into a new database beside the live one: the same rows, table for table.
        run_readme(readme_block("To restore a backup"))
        assert table_fingerprints("blog_restored") == original
        assert int(original["blog_post"].split(":")[0]) >= 1 and int(original["auth_user"].split(":")[0]) >= 3

        # In place of the live one: the stack serves the restored data.
        run_readme(readme_block("then, to put it in place of the live database"))
        wait_until(lambda: request("GET", "/ready/").status == 200, "/ready/ after the restore")
        for title, post_id in day.posts.items():
            assert call("GET", f"/api/posts/{post_id}/", 200).json()["title"] == title
        assert table_fingerprints("blog") == original
        compose("exec", "-T", "db", "dropdb", "--username", "blog", "blog_before_restore")
        wait_until(lambda: containers("worker")[0]["Health"] == "healthy", "the worker to be healthy again")

    def test_the_image_runs_without_compose_as_the_readme_says(self, day, tmp_path):
        """the page's "One image, without Compose" commands, literally, with two additions that
        put them on the stack's network (its db and redis are the "external" ones) and a free
        host port; worker and beat take over from the stack's own meanwhile (one beat only)."""
        commands = [line for line in readme_block("then run the release before") if line.startswith("docker run")]
        assert [re.search(r"scripts/\w+|blog-api$", line)[0] for line in commands] == [
            "scripts/release", "blog-api", "scripts/worker", "scripts/beat"]  # fmt: skip
        # The stack's .env, with the two URLs the page asks for (its db and redis by name).
        password = dotenv()["POSTGRES_PASSWORD"]
        env_file = tmp_path / "blog.env"
        env_file.write_text(
            (STACK / ".env").read_text()
            + f"\nDATABASE_URL=postgres://blog:{password}@db:5432/blog\nREDIS_URL=redis://redis:6379/0\n"
        )
        port = free_port()
        network = f"{PROJECT}_default"
        names = [re.search(r"--name (\S+)", line)[1] for line in commands if "--name" in line]
        compose("stop", "worker", "beat")
        try:
            for line in commands:
                args = shlex.split(line)
                args[2:2] = ["--network", network]
                args = [arg.replace("blog.env", str(env_file)) for arg in args]
                args = [arg.replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000") for arg in args]
                result = run(*args, timeout=300)
                if "scripts/release" in args:
                    assert "No migrations to apply." in result.stdout, result.stdout[-2000:]
            base = f"http://127.0.0.1:{port}"
            wait_until(lambda: _answers(base + "/health/"), "blog-web's /health/")
            wait_until(lambda: " ready." in run("docker", "logs", "blog-worker").stdout, "blog-worker to be ready")
            wait_until(lambda: "beat: Starting" in run("docker", "logs", "blog-beat").stdout, "blog-beat to start")

            title = "Written through docker run"
            post_id = day.posts[title] = write_post(day.author, title, base=base)
            assert publish(day.author, post_id, base=base).status == 200
            read = call("GET", f"/api/posts/{post_id}/", 200, token=day.reader.access)  # through the stack's nginx
            assert read.json()["title"] == title
            worker_logs = lambda: run("docker", "logs", "blog-worker").stdout  # noqa: E731
            assert_notified_exactly_once(post_id, title, day.reader, worker_logs)
            for name in names:
                for line in run("docker", "logs", name).stdout.splitlines():
                    json.loads(line)  # the same JSON lines as under compose
        finally:
            run("docker", "rm", "--force", *names, check=False)
            run("docker", "volume", "rm", "blog-media", check=False)
            compose("start", "worker", "beat")
        wait_until(lambda: containers("worker")[0]["Health"] == "healthy", "the stack's worker to be healthy again")

    def test_a_second_web_replica_and_one_stopped_under_load_fail_no_request(self, day):
        [scale] = [line for line in _self_hosting_commands() if "--scale web=2" in line]
        [reload] = [line for line in _self_hosting_commands() if "nginx -s reload" in line]
        run(*shlex.split(scale.replace(" -d ", " -d --wait ")), timeout=300)
        run(*shlex.split(reload))
        first, second = (row["Name"] for row in containers("web"))

        users = tokens_for_new_users(f"load-{secrets.token_hex(3)}", 8)
        with Load([token for _, token in users], tag="scale") as running:
            running.wait_for(60)
            stopped_at = time.monotonic()
            run("docker", "kill", "--signal", "SIGTERM", second)  # one replica, as a scale-down does
            wait_until(lambda: inspect(second)["State"]["Running"] is False, f"{second} to stop", timeout=40)
            stop_seconds = time.monotonic() - stopped_at
            answered = len(running.outcomes)
            running.wait_for(answered + 60)
        day.figures["load"] = running.summary()
        print(f"\nscale web=2, SIGTERM to {second} ({stop_seconds:.1f}s to stop) under load: {running.summary()}")

        assert running.failures() == [], running.failures()[:5]
        assert inspect(second)["State"]["ExitCode"] == 0, logs("web")[-3000:]
        ids = ",".join(str(user_id) for user_id, _ in users)
        stored = {int(pk) for pk in psql(f"SELECT id FROM blog_post WHERE author_id IN ({ids})").split()}
        assert stored == running.created() and len(stored) >= 20
        # Both replicas served the load (nginx's upstream addresses), and the stack goes back to one.
        upstreams = set(re.findall(r'"POST /api/posts/ HTTP/1\.1" 201 .* upstream=([\d.]+:8000) ', logs("nginx")))
        assert len(upstreams) >= 2, upstreams
        run(*shlex.split(scale.replace("web=2", "web=1")), timeout=300)
        run(*shlex.split(reload))
        assert [row["Name"] for row in containers("web")] == [first]
        call("GET", "/api/posts/", 200)

    def test_a_worker_crashing_mid_notification_comes_back_and_delivers_it_once(self, day):
        """A crash (the OOM killer, a segfault): the worker's main process dies by SIGKILL from
        outside Docker's API, so the restart policy applies (`docker kill` would count as a
        manual stop, which Docker never restarts)."""
        title = "Sent while the worker crashed"
        post_id = day.posts[title] = write_post(day.author, title)
        [worker] = containers("worker")
        before = inspect(worker["Name"])
        # The task is held mid-run: its INSERT of the notification waits for a table lock.
        holder = subprocess.Popen(
            ["docker", "compose", "exec", "-T", "db", "psql", "--username", "blog", "--dbname", "blog", "-qAt"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            holder.stdin.write("BEGIN; LOCK TABLE blog_notification IN SHARE MODE; SELECT 'locked';\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "locked"
            published_at = time.monotonic()
            assert publish(day.author, post_id).status == 200
            wait_until(
                lambda: psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                             "AND query LIKE 'INSERT INTO \"blog_notification\"%'") == "1",
                "the notification task to wait mid-run",
            )  # fmt: skip
            # SIGKILL to the container's main process from the host's PID namespace, as the kernel would.
            pid = before["State"]["Pid"]
            run("docker", "run", "--rm", "--pid", "host", "--user", "0", "--network", "none", "--entrypoint",
                "python", "blog-api", "-c", f"import os; os.kill({pid}, 9)")  # fmt: skip
            holder.stdin.write("ROLLBACK;\n")
            holder.stdin.flush()
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)

        def restarted():
            state = inspect(worker["Name"])
            return state["RestartCount"] > before["RestartCount"] and state["State"]["Running"] and state

        after = wait_until(restarted, "the restart policy to start the worker again")
        assert after["State"]["Pid"] != before["State"]["Pid"]
        waited = assert_notified_exactly_once(post_id, title, day.reader)
        delivered = time.monotonic() - published_at
        day.figures["worker crash"] = f"delivered {delivered:.0f}s after the publish"
        print(f"\nworker SIGKILLed mid-task: restarted by Docker, notification delivered once, {delivered:.0f}s "
              f"after the publish ({waited:.0f}s after the check began)")  # fmt: skip
        assert logs("worker").count("Connected to redis://") >= 1

    def test_a_database_restart_answers_503_json_meanwhile_and_recovers_without_a_web_restart(self, day):
        [web] = containers("web")
        started = inspect(web["Name"])["State"]["StartedAt"]
        answers: list[Response] = []
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                with contextlib.suppress(OSError, http.client.HTTPException):
                    answers.append(request("GET", "/api/posts/?page_size=1", token=day.author.access, timeout=15))
                time.sleep(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            wait_until(lambda: len(answers) >= 5, "answers before the restart")
            compose("restart", "db")
            wait_until(lambda: call("GET", "/ready/").status == 200, "/ready/ to answer 200 again")
            seen = len(answers)
            wait_until(lambda: len(answers) >= seen + 5, "answers after the restart")
        finally:
            stop.set()
            poller.join(timeout=30)
        statuses = [answer.status for answer in answers]
        print(f"\ndocker compose restart db: {statuses.count(503)} answers 503, {statuses.count(200)} 200")
        assert set(statuses) == {200, 503}, statuses
        for answer in answers:
            if answer.status == 503:
                assert answer.header("Content-Type") == "application/json" and error_message(answer, 503)
                assert int(answer.header("Retry-After")) > 0
        assert statuses[-1] == 200
        assert inspect(web["Name"])["State"]["StartedAt"] == started  # the same web, reconnected
        title = "After the database restart"
        day.posts[title] = write_post(day.author, title)

    def test_a_post_published_while_redis_is_stopped_answers_200_and_notifies_once_redis_is_back(self, day):
        title = "Published while Redis was stopped"
        post_id = day.posts[title] = write_post(day.author, title)
        compose("stop", "redis")
        try:
            began = time.monotonic()
            published = publish(day.author, post_id, timeout=10)
            took = time.monotonic() - began
            ready = call("GET", "/ready/", timeout=10)
            reads = call("GET", "/api/posts/", token=day.reader.access, timeout=10)
            kept = pending(post_id)
        finally:
            compose("start", "redis")
        print(f"\nRedis stopped: publish answered {published.status} in {took:.2f}s")
        assert published.status == 200 and published.json()["published"] is True
        assert ready.status == 503 and ready.json()["checks"]["redis"].startswith("error: ")
        assert reads.status == 200
        assert kept is True  # in the outbox
        waited = assert_notified_exactly_once(post_id, title, day.reader)
        day.figures["redis outage"] = f"delivered {waited:.0f}s after Redis was back"
        print(f"Redis back: notification delivered once, {waited:.0f}s later (beat's outbox sweep)")
        call("GET", "/ready/", 200)

    def test_the_stack_is_whole_before_it_is_stopped(self, day):
        for title, post_id in day.posts.items():
            assert call("GET", f"/api/posts/{post_id}/", 200, token=day.author.access).json()["title"] == title
        published = psql(f"SELECT id FROM blog_post WHERE author_id = {day.author.id} AND published ORDER BY id")
        assert {row["Service"] for row in containers("")} >= {"db", "redis", "web", "worker", "beat", "nginx"}
        STATE.write_text(
            json.dumps(
                {
                    "author": day.author.__dict__,
                    "reader": day.reader.__dict__,
                    "posts": day.posts,
                    "published": [int(pk) for pk in published.split()],
                    "migrations": psql("SELECT id, app, name, applied FROM django_migrations ORDER BY id"),
                    "emails": {title: emails_in(logs("worker"), title) for title in day.posts},
                    "figures": day.figures,
                }
            )
        )


# --- The restarted phase ----------------------------------------------------------------------
@pytest.fixture(scope="class")
def before():
    assert STATE.is_file(), f"no {STATE}: the first phase did not finish"
    return json.loads(STATE.read_text())


@pytest.mark.skipif(ON_STACK and PHASE != "restarted", reason="the restarted phase's tests (SMOKE_PHASE=restarted)")
class TestRestartedPhase:
    def test_the_release_ran_again_and_changed_nothing(self, before):
        [release] = containers("release", all_states=True)
        assert (release["State"], release["ExitCode"]) == ("exited", 0)
        assert "No migrations to apply." in logs("release")
        assert psql("SELECT id, app, name, applied FROM django_migrations ORDER BY id") == before["migrations"]

    def test_the_first_phase_data_is_still_there(self, before):
        author, reader = before["author"], before["reader"]
        tokens = {}
        for who in (author, reader):
            credentials = {"username": who["username"], "password": who["password"]}
            tokens[who["id"]] = call("POST", "/api/auth/token/", 200, body=credentials).json()["access"]
        for title, post_id in before["posts"].items():  # drafts too, for their author
            assert call("GET", f"/api/posts/{post_id}/", 200, token=tokens[author["id"]]).json()["title"] == title
        published = set(before["published"])
        assert len(published) >= 4
        listed = call("GET", f"/api/posts/?author={author['id']}&page_size=100", 200).json()
        assert {post["id"] for post in listed["results"]} == published
        notified = call("GET", "/api/notifications/?page_size=100", 200, token=tokens[reader["id"]]).json()["results"]
        assert {item["post"] for item in notified} == published
        followed = call("GET", "/api/subscriptions/", 200, token=tokens[reader["id"]]).json()["results"]
        assert [item["author"] for item in followed] == [author["id"]]
        # Nothing was notified twice across the restart (a lost task delivered again later included).
        for post_id in published:
            assert notification_rows(post_id) == [(reader["id"], True)], post_id
        emails = {title: emails_in(logs("worker"), title) for title in before["emails"]}
        assert set(emails.values()) <= {0}  # a new worker container: no email sent again since

    def test_a_warm_up_wait_reaches_healthy_within_the_limit(self, before):
        compose("down", "--timeout", "30", timeout=300)
        began = time.monotonic()
        compose("up", "-d", "--wait", "--wait-timeout", "300", timeout=360)
        seconds = time.monotonic() - began
        print(f"\ndocker compose up -d --wait, warm: healthy in {seconds:.1f}s (limit {WARM_UP_LIMIT:.0f}s)")
        for name, figure in before["figures"].items():
            print(f"first phase, {name}: {figure}")
        assert {row["Service"]: row["Health"] for row in containers("") if row["Health"]} == {
            "db": "healthy", "redis": "healthy", "web": "healthy", "worker": "healthy"}  # fmt: skip
        call("GET", "/ready/", 200)
        assert seconds < WARM_UP_LIMIT


# --- Small helpers --------------------------------------------------------------------------------
def _answers(url: str) -> bool:
    try:
        return request("GET", urllib.parse.urlsplit(url).path, base=url.split("/health/")[0]).status == 200
    except OSError:
        return False


def _self_hosting_commands() -> list[str]:
    section = SELF_HOSTING.read_text()
    return list(dict.fromkeys(re.findall(r"`(docker compose [^`]+)`", section)))  # each once
