"""Access to the real services tests need (Postgres, Redis, nginx, chromium...).

Where a service is absent on a developer's machine the test is skipped with the reason;
under CI (CI=true) the same absence fails the test, so CI can never pass by skipping.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """Skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        unavailable("REDIS_URL is not set (point it at a running Redis to run this test)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at REDIS_URL does not answer: {type(exc).__name__}")
    return url


@contextmanager
def empty_redis_database():
    """The URL of an empty Redis database (1 to 15, never REDIS_URL's own), claimed for one test
    so that the Celery worker it starts takes no other test's tasks; emptied afterwards."""
    import redis

    base = urllib.parse.urlparse(redis_url())
    own = int(base.path.lstrip("/") or 0)
    for number in (number for number in range(15, 0, -1) if number != own):
        url = base._replace(path=f"/{number}").geturl()
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        # The claim key makes the database non-empty at once: a parallel test skips it.
        if client.dbsize() == 0 and client.set("test-claim", str(uuid.uuid4()), nx=True, ex=600):
            try:
                yield url
            finally:
                client.flushdb()  # only this test's keys live here: it was empty when claimed
                client.close()
            return
        client.close()
    unavailable("no empty Redis database (1 to 15) to claim for a worker")


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        unavailable("DATABASE_URL does not point at PostgreSQL")
    return url


def executable(name: str) -> str:
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if not path:
        unavailable(f"{name} is not installed (apt-get install {name})")
    return path


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None, expect=200) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == expect:
                    return
                last = response.status
        except urllib.error.HTTPError as exc:
            last = exc.code
            if exc.code == expect:
                return
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer {expect} within {timeout}s (last: {last})")


def python() -> str:
    return sys.executable
