"""The deployment shapes of docs/security.md ("Deployment shapes"), live.

- gunicorn reachable directly (`docker run -p`, a host with no proxy in front): the shipped
  defaults, NUM_PROXIES=0 and FORWARDED_ALLOW_IPS loopback only. A client's made-up
  X-Forwarded-For does not escape the sign-in throttle, and clients trickling their headers or
  body, more of them than gunicorn has threads, do not stop anyone else from being answered.
- gunicorn behind the shipped nginx (docker-compose.yml), with the values docker-compose.yml
  gives: the throttles still count per client, the address nginx saw.

The platform edges (Fly.io, Render, Railway) cannot run here: tests/deploy/test_proxy_shapes.py
checks the value each manifest sets against the X-Forwarded-For each edge sends.
"""

import concurrent.futures
import http.client
import json
import re
import urllib.parse

import pytest
from django.contrib.auth import get_user_model

from tests.support import external, harness, manifests
from tests.support.factories import PostFactory, UserFactory
from tests.support.slow_clients import SLOW_BODY, SLOW_HEADERS, SlowClient

User = get_user_model()

pytestmark = [pytest.mark.system, pytest.mark.django_db]

WRONG_LOGIN = {"username": "nobody", "password": "wrong-password"}
# What docker-compose.yml's web service gets besides .env: the shape's proxy settings.
COMPOSE_SHAPE = ("NUM_PROXIES", "FORWARDED_ALLOW_IPS")


def _request(url: str, method: str = "GET", *, source: str = "127.0.0.1", headers=None, json_body=None, timeout=10.0):
    """harness.request, from the given loopback address: a second client on this one machine."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=(source, 0))
    body = json.dumps(json_body).encode() if json_body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})} if body else dict(headers or {})
    try:
        connection.request(
            method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=all_headers
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def posts(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        author = UserFactory()
        PostFactory.create_batch(2, author=author, live=True)
    yield
    with django_db_blocker.unblock():
        author.delete()


@pytest.fixture(scope="module")
def bare(posts, tmp_path_factory):
    """scripts/web as `docker run -p` runs it: no proxy settings, the shipped worker and thread counts."""
    workdir = tmp_path_factory.mktemp("bare")
    (workdir / "static").mkdir()
    # Every worker counts in the same Redis, as in production.
    with external.empty_redis_database() as cache:
        env = harness.app_env(
            harness.live_database_url(), CACHE_URL=cache, WEB_THREADS="1", STATIC_ROOT=str(workdir / "static")
        )
        assert not set(COMPOSE_SHAPE) & set(env)
        with harness.Gunicorn.start(env, workdir) as web:
            yield web


def test_bare_gunicorn_a_made_up_x_forwarded_for_per_request_does_not_escape_the_sign_in_throttle(bare):
    statuses = [
        _request(
            bare.url + "/api/auth/token/",
            "POST",
            headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"},
            json_body=WRONG_LOGIN,
        )
        for n in range(12)
    ]
    # THROTTLE_AUTH_RATE's 10 a minute for this one client, whatever it claims to be.
    assert statuses == [401] * 10 + [429] * 2, statuses
    # Another client (another address) has attempts of its own: the count is per client, not global.
    assert _request(bare.url + "/api/auth/token/", "POST", source="127.0.0.2", json_body=WRONG_LOGIN) == 401


def test_bare_gunicorn_answers_others_while_more_slow_clients_than_threads_hold_connections(bare):
    """2 workers x 1 thread; before the read deadline, 2 slow clients stalled every request sent
    to a worker holding one (REQUEST_READ_TIMEOUT_SECONDS, config/gunicorn_worker.py)."""
    slow = [SlowClient.open("127.0.0.1", bare.port, kind) for kind in [SLOW_HEADERS] * 4 + [SLOW_BODY] * 4]
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            # Generous: the slow clients are cut at REQUEST_READ_TIMEOUT_SECONDS (20 s); without
            # the cut, these waited for as long as the slow clients kept sending.
            answered = list(pool.map(lambda _: _request(bare.url + "/api/posts/", timeout=60), range(4)))
        assert answered == [200] * 4
        headers_answers = [client.answer(timeout=30) for client in slow[:4]]
        body_answers = [client.answer(timeout=30) for client in slow[4:]]
    finally:
        for client in slow:
            client.close()
    # Still sending headers: closed without an answer. Still sending a body: a JSON 408.
    assert headers_answers == [b""] * 4
    for answer in body_answers:
        head = answer.split(b"\r\n\r\n", 1)[0].decode()
        assert head.startswith("HTTP/1.1 408 "), answer[:300]
        assert re.search(r"(?im)^content-type: application/json", head), head


@pytest.fixture(scope="module")
def behind_nginx(posts, collected_static):
    web = manifests.compose_services()["web"]
    shape = {name: manifests.compose_value(web, name) for name in COMPOSE_SHAPE}
    with external.empty_redis_database() as cache:
        env = harness.app_env(
            harness.live_database_url(), CACHE_URL=cache, THROTTLE_ANON_RATE="5/min", WEB_THREADS="1", **shape
        )
        with harness.live_stack(env, external.executable("nginx"), static_source=collected_static) as stack:
            yield stack


def test_behind_nginx_the_throttles_count_the_address_nginx_saw(behind_nginx):
    url = behind_nginx.nginx.url + "/api/posts/"
    statuses = [_request(url, headers={"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(7)]
    assert statuses == [200] * 5 + [429] * 2, statuses
    # Another client, as nginx saw it, is counted on its own.
    assert _request(url, source="127.0.0.2") == 200
