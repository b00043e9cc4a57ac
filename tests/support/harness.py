"""A live stack for the system tests: gunicorn started by scripts/web, and nginx running the
project's own nginx.conf in front of it, both ordinary processes on free loopback ports.

Typical use, in a module-scoped fixture (see tests/system/test_nginx.py)::

    pytestmark = pytest.mark.django_db

    @pytest.fixture(scope="module")
    def stack(django_db_setup, collected_static):  # collected_static: tests/conftest.py
        nginx_binary = external.executable("nginx")
        env = harness.app_env(harness.live_database_url(), SECURE_SSL_REDIRECT="true")
        with harness.live_stack(env, nginx_binary, static_source=collected_static) as stack:
            yield stack

    def test_something(stack):
        response = harness.request("GET", stack.nginx.url + "/api/posts/")
        assert response.status == 200
        assert stack.web.requests("/api/posts/")  # gunicorn's access log saw it

Pieces, usable on their own:
- ``app_env(database_url, **overrides)``: a minimal environment for scripts/web (production
  defaults, DEBUG off, throwaway SECRET_KEY and JWT_SIGNING_KEY); nothing leaks in from the test process.
- ``live_database_url()``: DATABASE_URL of pytest-django's migrated test database; call it
  from a fixture that depends on ``django_db_setup``, in a module marked ``django_db``
  (pytest-django creates the database only when some selected test asks for it). Rows the
  processes must see are written committed (``with django_db_blocker.unblock():`` in a
  module-scoped fixture, outside the tests' rolled-back transactions) and removed by it.
- ``scratch_dir()``: a temporary directory nginx's unprivileged workers can read, removed after.
- ``Gunicorn.start(env, workdir, port=None)``: scripts/web on a free port (or the given one,
  to restart on the same address); waits for /health/. ``.stop()`` / ``.kill()``,
  ``.requests(prefix)`` parses its access log, ``.output()`` returns everything it printed.
- ``render_nginx_conf(...)``: a copy of nginx.conf with only the upstream address, listen
  address, static/media root (``root /srv``) and temp/log directories replaced; each
  replaced text must be present in the shipped file, so the test breaks loudly if it changes.
- ``nginx_test(binary, conf, prefix)``: ``nginx -t`` on a rendered file.
- ``Nginx.start(binary, conf, prefix)``: nginx as a foreground process (``daemon off``).
  ``.requests(prefix)`` parses its access log, ``.error_log()``, ``.reload()``, ``.stop()``.
- ``live_stack(env, nginx_binary, static_source=...)``: all of the above together, with the
  static files copied in, torn down in reverse order even when the body fails.
- ``request(method, url, ...)``: one HTTP request that never follows redirects.
- ``Worker.start(env, log_path)`` / ``Beat.start(env, log_path)``: scripts/worker and
  scripts/beat, returning once they log that they are ready; ``Worker.successes(task, id)``
  reads task results off the worker's log, ``Worker.children()`` its prefork children.
- ``popen_logged(command, env=..., log_path=...)`` and ``LoggedProcess``: any other process
  started and stopped the same way.
- ``eventually(check)``: polls a log check until it holds (log lines trail the response);
  ``wait_until(condition, what, logs=...)`` fails the test instead, with the processes' output.

Every process runs in its own session and is stopped (SIGTERM, then SIGKILL of its whole
process group) on exit; nothing binds anything but 127.0.0.1.
"""

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.external import ROOT, free_port, port_open, wait_for_http

NGINX_CONF = ROOT / "nginx.conf"
SCRIPTS_WEB = ROOT / "scripts" / "web"
VENV_BIN = ROOT / ".venv" / "bin"
TEST_SECRET_KEY = "e2e-only-secret-key-" + "y" * 40
TEST_JWT_SIGNING_KEY = "e2e-only-jwt-signing-key-" + "w" * 40

# The texts of nginx.conf a local run replaces, and how many times each must appear.
UPSTREAM_TEXT = ("server web:8000;", 1)
LISTEN_TEXT = ("listen 80 default_server;", 1)
ROOT_TEXT = ("root /srv;", 1)
TEMP_TEXT = ("/var/cache/nginx/", 5)
LOG_TEXT = ("/var/log/nginx/", 2)

# gunicorn (config/gunicorn.py) and nginx.conf ("main") both log the request line then the status.
_ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})')


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    status: int


def _parse_access(text: str, prefix: str) -> list[Logged]:
    found = []
    for match in _ACCESS_LINE.finditer(text):
        if match["path"].startswith(prefix):
            found.append(Logged(match["method"], match["path"], int(match["status"])))
    return found


# --- Environment -----------------------------------------------------------------------------
def app_env(database_url: str, **overrides: str) -> dict[str, str]:
    """Environment for scripts/web and manage.py: production defaults, nothing inherited but PATH-like basics."""
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "SECRET_KEY": TEST_SECRET_KEY,
        "JWT_SIGNING_KEY": TEST_JWT_SIGNING_KEY,
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_JSON": "false",
        "LOG_LEVEL": "INFO",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "2",
        # Tasks in-process and a per-process cache unless the caller passes REDIS_URL etc.
        "CACHE_URL": "locmemcache://",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    if "SSL_CERT_FILE" in os.environ:
        env["SSL_CERT_FILE"] = os.environ["SSL_CERT_FILE"]
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def live_database_url() -> str:
    """DATABASE_URL of the test database pytest-django created and migrated (needs django_db_setup)."""
    from django.db import connection

    settings = connection.settings_dict
    if settings["ENGINE"] != "django.db.backends.postgresql":
        from tests.support.external import unavailable

        unavailable("DATABASE_URL does not point at PostgreSQL (the live stack runs on Postgres)")
    user = urllib.parse.quote(settings.get("USER") or "", safe="")
    password = urllib.parse.quote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings['NAME']}"


@contextlib.contextmanager
def scratch_dir(prefix: str = "e2e-") -> Iterator[Path]:
    """A temporary directory readable by nginx's workers (they drop root), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- Processes -------------------------------------------------------------------------------
class LoggedProcess:
    """A process in a session of its own, its output in log_path; stopped with its whole group."""

    process: subprocess.Popen
    log_path: Path

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Graceful stop, then SIGKILL of the whole process group; returns the exit status."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # Workers left behind by a master that died still hold the port: kill the group.
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        return self.process.returncode

    def kill(self) -> None:
        """Abrupt death of the master and its workers, as in a crash or an OOM kill."""
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_started(self, ready, what: str, timeout: float) -> None:
        """Poll ready() until it holds; if the process exits or time runs out first, stop it
        and raise RuntimeError with what it printed."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{what} did not start:\n{self.output()[-4000:]}")
            time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def popen_logged(
    command: list[str], *, env: dict[str, str] | None, log_path: Path, cwd: Path = ROOT
) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


@dataclass(eq=False)
class Gunicorn(LoggedProcess):
    process: subprocess.Popen
    port: int
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, env: dict[str, str], workdir: Path, port: int | None = None, timeout: float = 30.0) -> "Gunicorn":
        """scripts/web with env (PORT set here), logging to workdir; returns once /health/ answers 200."""
        port = port or free_port()
        env = {**env, "PORT": str(port)}
        log_path = workdir / f"gunicorn-{port}.log"
        process = popen_logged([str(SCRIPTS_WEB)], env=env, log_path=log_path)
        web = cls(process=process, port=port, log_path=log_path, env=env)
        try:
            wait_for_http(f"{web.url}/health/", timeout=timeout, process=process)
        except (TimeoutError, RuntimeError) as exc:
            web.stop()
            raise RuntimeError(f"scripts/web did not come up: {exc}\n{web.output()[-3000:]}") from exc
        return web

    def requests(self, prefix: str = "/") -> list[Logged]:
        """Requests gunicorn's access log recorded whose path starts with prefix."""
        return _parse_access(self.output(), prefix)


# --- Celery ----------------------------------------------------------------------------------
@dataclass(eq=False)
class Celery(LoggedProcess):
    """scripts/worker or scripts/beat in a session of its own (a worker's master and its prefork
    children), started with LOG_LEVEL=INFO so that its "ready" line shows."""

    process: subprocess.Popen
    log_path: Path

    SCRIPT = ""
    READY = ""

    @classmethod
    def start(cls, env: dict[str, str], log_path: Path, timeout: float = 60.0):
        env = {"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", **env}
        started = cls(popen_logged([str(ROOT / "scripts" / cls.SCRIPT)], env=env, log_path=log_path), log_path)
        started.wait_started(lambda: re.search(cls.READY, started.output()), f"scripts/{cls.SCRIPT}", timeout)
        return started

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Celery's warm shutdown lets a running task finish first."""
        return super().stop(sig, timeout)


class Worker(Celery):
    SCRIPT = "worker"
    READY = r"INFO celery\.apps\.worker .* ready\."

    def successes(self, task_name: str, task_id: str) -> list[int]:
        """Return values of the runs of task_name[task_id] that succeeded, from the worker's log."""
        pattern = rf"Task {re.escape(task_name)}\[{re.escape(task_id)}\] succeeded in \S+s: (\d+)"
        return [int(value) for value in re.findall(pattern, self.output())]

    def received(self, task_name: str) -> list[str]:
        """Ids of the task_name messages this worker took, in order."""
        return re.findall(rf"Task {re.escape(task_name)}\[([0-9a-f-]+)\] received", self.output())

    def children(self) -> list[int]:
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.append(int(stat.parent.name))
        return children


class Beat(Celery):
    SCRIPT = "beat"
    READY = r"INFO celery\.beat .*beat: Starting"


# --- nginx -----------------------------------------------------------------------------------
def _replace(text: str, spec: tuple[str, int], new: str) -> str:
    old, count = spec
    found = text.count(old)
    if found != count:
        raise AssertionError(f"nginx.conf: expected {count} x {old!r} to render for a local run, found {found}")
    return text.replace(old, new)


def render_nginx_conf(
    *, upstream: str | list[str], listen_port: int, srv_root: Path, prefix: Path, source: Path = NGINX_CONF
) -> Path:
    """A copy of nginx.conf for a local run, in prefix/nginx.conf.

    Only these change: the upstream address (web:8000; several addresses, as nginx resolves
    `web` to every replica of `docker compose up --scale web=N`), the listen address
    (127.0.0.1 and a free port instead of :80), the static/media root (/srv, holding static/
    and media/), and the temp and log directories (under prefix). Every other line is the
    shipped file's.
    """
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    upstreams = [upstream] if isinstance(upstream, str) else upstream
    text = source.read_text()
    text = _replace(text, UPSTREAM_TEXT, " ".join(f"server {address};" for address in upstreams))
    text = _replace(text, LISTEN_TEXT, f"listen 127.0.0.1:{listen_port} default_server;")
    text = _replace(text, ROOT_TEXT, f"root {srv_root};")
    text = _replace(text, TEMP_TEXT, f"{prefix}/temp/")
    text = _replace(text, LOG_TEXT, f"{prefix}/logs/")
    conf = prefix / "nginx.conf"
    conf.write_text(text)
    return conf


def _nginx_command(binary: str, conf: Path, prefix: Path, *extra: str) -> list[str]:
    # -e: the error log used before the configuration is read (the compiled-in one may not be writable).
    globals_ = f"daemon off; pid {prefix}/nginx.pid;"
    return [binary, "-p", f"{prefix}/", "-c", str(conf), "-e", f"{prefix}/logs/startup.log", "-g", globals_, *extra]


def nginx_test(binary: str, conf: Path, prefix: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on a rendered configuration."""
    return subprocess.run(_nginx_command(binary, conf, prefix, "-t"), capture_output=True, text=True, timeout=30)


@dataclass(eq=False)
class Nginx(LoggedProcess):
    process: subprocess.Popen
    binary: str
    conf: Path
    prefix: Path
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"

    @classmethod
    def start(cls, binary: str, conf: Path, prefix: Path, port: int, timeout: float = 15.0) -> "Nginx":
        """nginx in the foreground with a rendered conf (render_nginx_conf) listening on port."""
        log_path = prefix / "logs" / "nginx-stdout.log"
        process = popen_logged(_nginx_command(binary, conf, prefix), env=None, log_path=log_path, cwd=prefix)
        nginx = cls(process=process, binary=binary, conf=conf, prefix=prefix, port=port, log_path=log_path)
        try:
            nginx.wait_started(lambda: port_open("127.0.0.1", port), "nginx", timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}{nginx.error_log()}") from None
        return nginx

    def stop(self, sig: int = signal.SIGQUIT, timeout: float = 10.0) -> int | None:
        """SIGQUIT: nginx's graceful shutdown (finish requests in flight)."""
        return super().stop(sig, timeout)

    def reload(self) -> None:
        """SIGHUP: re-read the configuration (e.g. after the upstream's port changed in conf)."""
        self.process.send_signal(signal.SIGHUP)

    def error_log(self) -> str:
        logs = [self.prefix / "logs" / name for name in ("startup.log", "error.log")]
        return "".join(path.read_text(errors="replace") for path in logs if path.exists())

    def requests(self, prefix: str = "/") -> list[Logged]:
        text = self.access_log.read_text(errors="replace") if self.access_log.exists() else ""
        return _parse_access(text, prefix)


# --- Both together ---------------------------------------------------------------------------
@dataclass
class Stack:
    webs: list[Gunicorn]
    nginx: Nginx
    workdir: Path

    @property
    def web(self) -> Gunicorn:
        return self.webs[0]

    @property
    def static_root(self) -> Path:
        return self.workdir / "srv" / "static"

    @property
    def media_root(self) -> Path:
        return self.workdir / "srv" / "media"


@contextlib.contextmanager
def live_stack(
    env: dict[str, str], nginx_binary: str, *, static_source: Path | None = None, replicas: int = 1
) -> Iterator[Stack]:
    """gunicorn (scripts/web, env) behind nginx (nginx.conf); with replicas=N, N gunicorns
    behind the one upstream, as `docker compose up --scale web=N` gives.

    The static and media roots are workdir/srv/static and workdir/srv/media; the app runs with
    STATIC_ROOT and MEDIA_ROOT pointing there, as the compose volumes do. static_source, a
    collectstatic output, is copied into the static root, as compose's `static` service does.
    """
    with scratch_dir() as workdir:
        srv = workdir / "srv"
        (srv / "static").mkdir(parents=True)
        (srv / "media").mkdir()
        env = {**env, "STATIC_ROOT": str(srv / "static"), "MEDIA_ROOT": str(srv / "media")}
        if static_source is not None:
            shutil.copytree(static_source, srv / "static", dirs_exist_ok=True)
        prefix = workdir / "nginx"
        prefix.mkdir()
        with contextlib.ExitStack() as stack:
            webs = [stack.enter_context(Gunicorn.start(env, workdir)) for _ in range(replicas)]
            port = free_port()
            upstreams = [f"127.0.0.1:{web.port}" for web in webs]
            conf = render_nginx_conf(upstream=upstreams, listen_port=port, srv_root=srv, prefix=prefix)
            checked = nginx_test(nginx_binary, conf, prefix)
            if checked.returncode != 0:
                raise RuntimeError(f"nginx -t failed on the rendered nginx.conf:\n{checked.stderr}")
            nginx = stack.enter_context(Nginx.start(nginx_binary, conf, prefix, port))
            yield Stack(webs=webs, nginx=nginx, workdir=workdir)


def wait_until(condition, what: str, timeout: float = 60.0, logs: tuple[LoggedProcess, ...] = ()):
    """condition()'s first truthy result; an AssertionError naming `what`, with the tail of each
    process's output in `logs`, if it is still false after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            detail = "".join(f"\n--- {process.log_path.name} ---\n{process.output()[-3000:]}" for process in logs)
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")
        time.sleep(0.05)
    return result


def eventually(check, timeout: float = 10.0):
    """check()'s first truthy result, polled until timeout (its last result if none).

    Servers write an access-log line after the response has gone out, so a client that has
    its answer may look at the log a moment before the line is there.
    """
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


# --- HTTP ------------------------------------------------------------------------------------
@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    json_body=None,
    timeout: float = 10.0,
) -> Response:
    """One request on a fresh connection; redirects are returned, not followed."""
    parts = urllib.parse.urlsplit(url)
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()
