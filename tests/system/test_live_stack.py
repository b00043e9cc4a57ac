"""The whole stack, live, and what it does under faults: nginx (nginx.conf) → two gunicorns
(scripts/web, as `docker compose up --scale web=2`) → Postgres, with a Celery worker
(scripts/worker) and beat (scripts/beat) on a Redis, and a real SMTP server on loopback.

First a reader and an author go through the API as users do. Then faults, each followed by
the check that nothing was lost:
- the worker is killed (SIGKILL, master and children) while a notification task runs;
- Redis is down while a post is published;
- the database is unreachable, then back;
- gunicorn is reloaded (SIGHUP), and one of the two is stopped (SIGTERM), under load.
Last, a bounded load: 64 clients for 30 s through nginx on reads and writes, with no 5xx and
the database holding exactly the posts that were answered 201.

The faults touch only this module's own processes: its Redis on a port of its own, and a TCP
proxy in front of the machine's Postgres that it cuts (tests/support/faults.py).
"""

import re
import signal
import time
import urllib.parse
import uuid
from dataclasses import dataclass

import pytest

from blog.models import Notification, Post
from tests.support import external, faults, harness, load
from tests.support.mailserver import SMTPServer

# transaction=True: the processes see only committed rows, and every table is emptied after
# each test. One xdist worker runs the whole module, on one stack.
pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("live-stack")]

NOTIFY = "blog.tasks.notify_subscribers"
DEADLINE = 60.0  # seconds: generous for a loaded 2-core machine, never reached when things work
SWEEP_SECONDS = 2  # OUTBOX_SWEEP_SECONDS: beat sweeps the outbox every 2 s instead of every minute
LOAD_CLIENTS, LOAD_SECONDS = 64, 30
VISIBILITY_SECONDS = 5  # CELERY_VISIBILITY_TIMEOUT: a dead worker's task comes back after 5 s
# A request that must fail fast during an outage: above DB_CONNECT_TIMEOUT (5 s) and the
# broker's connect timeout (2 s), far below a hang.
FAIL_FAST = 8.0


@dataclass
class Live:
    stack: harness.Stack
    worker: harness.Worker
    beat: harness.Beat
    redis: faults.RedisServer
    database: faults.TcpProxy
    smtp: SMTPServer
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.stack.nginx.url

    def start_worker(self) -> harness.Worker:
        log_path = self.stack.workdir / f"worker-{time.monotonic_ns()}.log"
        self.worker = harness.Worker.start(self.env, log_path, timeout=DEADLINE)
        return self.worker


def _through(proxy: faults.TcpProxy, database_url: str) -> str:
    parts = urllib.parse.urlsplit(database_url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return parts._replace(netloc=netloc).geturl()


@pytest.fixture(scope="module")
def live(django_db_setup, collected_static):
    nginx_binary = external.executable("nginx")
    redis_binary = external.executable("redis-server")
    database_url = harness.live_database_url()
    target = urllib.parse.urlsplit(database_url)
    with (
        harness.scratch_dir("live-") as workdir,
        faults.TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as database,
        faults.RedisServer(redis_binary, workdir).start() as redis,
        SMTPServer() as smtp,
    ):
        env = harness.app_env(
            _through(database, database_url),
            REDIS_URL=redis.url,
            CELERY_TASK_ALWAYS_EAGER="false",
            EMAIL_URL=smtp.url,
            OUTBOX_SWEEP_SECONDS=str(SWEEP_SECONDS),
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS),
            CELERY_CONCURRENCY="2",
            CELERY_BEAT_SCHEDULE_FILENAME=str(workdir / "celerybeat-schedule"),
            # The production default: one thread per gunicorn worker.
            WEB_THREADS="1",
            # The load and the fault tests are about failures, not about the rate limits.
            THROTTLE_ANON_RATE="100000/min",
            THROTTLE_USER_RATE="100000/min",
            THROTTLE_AUTH_RATE="100000/min",
            PYTHONUNBUFFERED="1",
        )
        del env["CACHE_URL"]  # the production default: the cache (throttle counters) is REDIS_URL
        with (
            harness.live_stack(env, nginx_binary, static_source=collected_static, replicas=2) as stack,
            harness.Worker.start(env, workdir / "worker.log", timeout=DEADLINE) as worker,
            harness.Beat.start(env, workdir / "beat.log", timeout=DEADLINE) as beat,
        ):
            live = Live(stack, worker, beat, redis, database, smtp, env)
            try:
                yield live
            finally:
                # Processes a test started in place of one it stopped.
                for process in (live.worker, *live.stack.webs):
                    process.stop()


# --- Helpers ---------------------------------------------------------------------------------
@dataclass
class User:
    id: int
    username: str
    email: str
    access: str
    refresh: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def call(base: str, method: str, path: str, *, user=None, json_body=None, expect=None, timeout: float = 30.0):
    headers = user.auth if user else None
    response = harness.request(method, base + path, headers=headers, json_body=json_body, timeout=timeout)
    if expect is not None:
        assert response.status == expect, (method, path, response.status, response.body[:500])
    return response


def sign_up(base: str, name: str) -> User:
    """Register and sign in through the API at base, as a client does."""
    username = f"{name}-{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.test"
    password = f"A long passphrase for {username}"
    credentials = {"username": username, "password": password}
    created = call(base, "POST", "/api/auth/register/", json_body={**credentials, "email": email}, expect=201)
    tokens = call(base, "POST", "/api/auth/token/", json_body=credentials, expect=200).json()
    return User(created.json()["id"], username, email, tokens["access"], tokens["refresh"])


def verify_email(live: Live, user: User) -> None:
    """Follow the link of the verification email the worker sent to the user, as its reader does
    (the link's page POSTs the token to the API). Straight at gunicorn: the scenario's requests
    to /api/auth/ through nginx stay within nginx's limit."""

    def verification_mail():
        for received in live.smtp.received:
            if received.rcpt_to == (user.email,) and received.message["Subject"] == "Confirm your email address":
                return received.message
        return None

    message = harness.wait_until(verification_mail, "the worker to send the verification email", logs=(live.worker,))
    [token] = re.findall(r"[?&]token=([^\s&]+)", message.get_content())
    body = {"token": urllib.parse.unquote(token)}
    verified = call(live.stack.web.url, "POST", "/api/auth/email/verify/", json_body=body, expect=200)
    assert verified.json() == {"email": user.email, "email_verified": True}


def become_public(live: Live, author: User) -> None:
    """Only an author with a published post can be followed."""
    post_id = write_post(live, author, f"Hello from {author.username}")
    call(live.url, "POST", f"/api/posts/{post_id}/publish/", user=author, expect=200)


def an_author_and_a_reader(live: Live) -> tuple[User, User]:
    """Signed up straight at gunicorn: nginx's limit on /api/auth/ is for the scenario test. The
    reader's address is verified (only a verified address is emailed), the author has published."""
    author, reader = sign_up(live.stack.web.url, "author"), sign_up(live.stack.web.url, "reader")
    verify_email(live, reader)
    become_public(live, author)
    call(live.url, "POST", "/api/subscriptions/", user=reader, json_body={"author": author.id}, expect=201)
    return author, reader


def write_post(live: Live, author: User, title: str) -> int:
    body = {"title": title, "body": f"The text of {title}."}
    return call(live.url, "POST", "/api/posts/", user=author, json_body=body, expect=201).json()["id"]


def emails_to(live: Live, address: str) -> int:
    """Notification emails to the address (its verification email is not one)."""
    return sum(
        received.rcpt_to == (address,) and received.message["Subject"].startswith("New post by")
        for received in live.smtp.received
    )


def assert_notified_exactly_once(live: Live, post_id: int, reader: User) -> None:
    """One notification row, one email, and the post out of the outbox."""
    processes = (live.worker, live.beat)
    harness.wait_until(
        lambda: not Post.objects.get(pk=post_id).notifications_pending, "the outbox to drain", logs=processes
    )
    assert list(Notification.objects.filter(post_id=post_id).values_list("recipient_id", flat=True)) == [reader.id]
    assert emails_to(live, reader.email) == 1
    listed = call(live.url, "GET", "/api/notifications/", user=reader, expect=200).json()["results"]
    assert [item["post"] for item in listed] == [post_id]


# --- The scenario ------------------------------------------------------------------------------
def test_a_reader_and_an_author_use_the_api_through_the_whole_stack(live):
    author = sign_up(live.url, "author")
    reader = sign_up(live.url, "reader")
    verify_email(live, reader)
    become_public(live, author)
    call(live.url, "POST", "/api/subscriptions/", user=reader, json_body={"author": author.id}, expect=201)

    post_id = write_post(live, author, "Live from the stack")
    assert call(live.url, "GET", f"/api/posts/{post_id}/", user=reader).status == 404  # a draft is private
    published = call(live.url, "POST", f"/api/posts/{post_id}/publish/", user=author, expect=200).json()
    assert published["published"] is True

    # The worker took the task from Redis, wrote the notification and sent the email.
    harness.wait_until(lambda: emails_to(live, reader.email), "the worker to email the reader", logs=(live.worker,))
    [email] = [
        received.message
        for received in live.smtp.received
        if received.rcpt_to == (reader.email,) and received.message["Subject"].startswith("New post by")
    ]
    assert "Live from the stack" in email["Subject"]
    assert_notified_exactly_once(live, post_id, reader)
    assert live.worker.received(NOTIFY)

    call(live.url, "POST", f"/api/posts/{post_id}/comments/", user=reader, json_body={"body": "Nice."}, expect=201)
    found = call(live.url, "GET", f"/api/posts/?author={author.id}&search=stack").json()
    assert [(post["id"], post["comment_count"]) for post in found["results"]] == [(post_id, 1)]
    assert call(live.url, "GET", f"/api/posts/?author={author.id}&search=absent").json()["count"] == 0

    call(live.url, "POST", "/api/auth/logout/", user=reader, json_body={"refresh": reader.refresh}, expect=204)
    refused = call(live.url, "POST", "/api/auth/token/refresh/", json_body={"refresh": reader.refresh})
    assert refused.status == 401 and refused.header("Content-Type") == "application/json"

    # Everything went through nginx, and nginx spread it over both gunicorns.
    assert harness.eventually(lambda: len(live.stack.nginx.requests("/api/")) >= 12)
    assert all(harness.eventually(lambda web=web: web.requests("/api/")) for web in live.stack.webs)


# --- Faults ------------------------------------------------------------------------------------
def test_a_worker_killed_mid_notification_has_the_task_delivered_again_exactly_once(live):
    author, reader = an_author_and_a_reader(live)
    post_id = write_post(live, author, "Killed mid-send")
    live.smtp.hold(1)  # the worker's SMTP conversation hangs: the task is running

    call(live.url, "POST", f"/api/posts/{post_id}/publish/", user=author, expect=200)
    live.smtp.wait_held(1, timeout=DEADLINE)
    [task_id] = live.worker.received(NOTIFY)[-1:]
    live.worker.kill()  # SIGKILL to the master and its children: nothing is acknowledged
    killed_at = time.monotonic()
    live.smtp.release()
    assert emails_to(live, reader.email) == 0

    # acks_late: the message stays in Redis, unacknowledged. A worker starting once it is older
    # than the visibility timeout (a platform restarting the crashed worker) takes it back.
    time.sleep(max(0.0, killed_at + VISIBILITY_SECONDS + 1 - time.monotonic()))
    worker = live.start_worker()

    harness.wait_until(lambda: worker.successes(NOTIFY, task_id), "the task to be delivered again", logs=(worker,))
    assert_notified_exactly_once(live, post_id, reader)


def test_a_post_published_while_redis_is_down_notifies_once_redis_is_back(live):
    author, reader = an_author_and_a_reader(live)
    post_id = write_post(live, author, "Published during an outage")

    live.redis.stop()
    try:
        # The enqueue gives up within seconds (the client's timeout would fail the test).
        started = time.monotonic()
        published = call(live.url, "POST", f"/api/posts/{post_id}/publish/", user=author, timeout=FAIL_FAST)
        print(f"publish answered {published.status} in {time.monotonic() - started:.3f}s")  # for `pytest -s`
        ready = call(live.url, "GET", "/ready/", timeout=FAIL_FAST)
        reads = call(live.url, "GET", "/api/posts/", user=reader, timeout=FAIL_FAST)  # throttles on a dead Redis
        pending = Post.objects.get(pk=post_id).notifications_pending
        emailed = emails_to(live, reader.email)
    finally:
        live.redis.start()  # empty: whatever Redis held is gone, the outbox is not

    assert published.status == 200 and published.json()["published"] is True
    assert (ready.status, ready.json()["checks"]["redis"]) == (503, "error: ConnectionError")
    assert reads.status == 200 and post_id in [post["id"] for post in reads.json()["results"]]
    assert (pending, emailed) == (True, 0)  # kept in the outbox

    # Beat's sweep enqueues the post again; the worker reconnects and delivers it.
    assert_notified_exactly_once(live, post_id, reader)
    assert call(live.url, "GET", "/ready/").status == 200


@pytest.mark.parametrize("silent", [False, True], ids=["port-closed", "host-gone"])
def test_the_database_going_away_fails_readiness_fast_and_the_app_recovers_by_itself(live, silent):
    """Port closed: connections are refused at once. Host gone: nothing answers at all, and
    DB_CONNECT_TIMEOUT (5 s) is what keeps each request from hanging."""
    author, _ = an_author_and_a_reader(live)
    published_to_be_followed = set(Post.objects.filter(author_id=author.id).values_list("pk", flat=True))
    before = write_post(live, author, "Before the outage")
    masters = [web.process.pid for web in live.stack.webs]

    live.database.cut(silent=silent)
    try:
        # Each answers within seconds (the client's timeout would fail the test): no hanging.
        started = time.monotonic()
        ready = call(live.url, "GET", "/ready/", timeout=FAIL_FAST)
        print(f"/ready/ answered {ready.status} in {time.monotonic() - started:.3f}s")  # for `pytest -s`
        health = call(live.url, "GET", "/health/", timeout=FAIL_FAST)
        during = call(live.url, "GET", "/api/posts/", user=author, timeout=FAIL_FAST)
        body = {"title": "Lost?", "body": "No."}
        write = call(live.url, "POST", "/api/posts/", user=author, json_body=body, timeout=FAIL_FAST)
    finally:
        live.database.restore()

    assert ready.status == 503 and ready.json()["checks"]["database"].startswith("error: ")
    assert health.status == 200 and health.json() == {"status": "ok"}
    for response in (during, write):
        assert response.status == 503, (response.status, response.body[:300])
        assert response.header("Content-Type") == "application/json"
        assert int(response.header("Retry-After")) > 0

    # Back without a restart: the same gunicorns reconnect on their next request.
    harness.wait_until(lambda: call(live.url, "GET", "/ready/").status == 200, "/ready/ to answer 200 again")
    after = write_post(live, author, "After the outage")
    listed = call(live.url, "GET", f"/api/posts/?author={author.id}", user=author, expect=200).json()["results"]
    # The refused write left nothing behind.
    assert {post["id"] for post in listed} == published_to_be_followed | {before, after}
    assert [web.process.pid for web in live.stack.webs] == masters
    assert all(web.process.poll() is None for web in live.stack.webs)


def _assert_nothing_lost(outcomes: list[load.Outcome], author: User) -> None:
    assert outcomes, "the load sent nothing"
    assert load.failures(outcomes) == []
    stored = set(Post.objects.filter(author_id=author.id).values_list("pk", flat=True))
    assert stored == load.created_ids(outcomes)


def test_a_gunicorn_reload_under_load_fails_no_request(live):
    author = sign_up(live.stack.web.url, "loader")
    web = live.stack.web
    with load.Load(live.url, author.access, tag="hup", threads=16) as running:
        running.wait_for(40)
        web.process.send_signal(signal.SIGHUP)  # re-read the config, replace every worker
        harness.wait_until(lambda: web.output().count("Booting worker") >= 4, "new workers to boot", logs=(web,))
        answered = len(running.outcomes)
        running.wait_for(answered + 40)
    outcomes = running.outcomes
    print("SIGHUP:", load.summary(outcomes, running.seconds))  # for `pytest -s`

    assert "Handling signal: hup" in web.output()
    _assert_nothing_lost(outcomes, author)
    assert sum(outcome.status == 201 for outcome in outcomes) >= 20


def test_a_gunicorn_stopped_under_load_fails_no_request(live):
    """One of the two replicas gets SIGTERM mid-load, as in a rolling deploy: it finishes
    what it holds, nginx sends the rest to the other one, and no client sees an error."""
    author = sign_up(live.stack.web.url, "loader")
    stopping, other = live.stack.webs
    with load.Load(live.url, author.access, tag="term", threads=16) as running:
        running.wait_for(40)
        code = stopping.stop(signal.SIGTERM, timeout=35)
        answered = len(running.outcomes)
        running.wait_for(answered + 40)
    outcomes = running.outcomes
    print("SIGTERM:", load.summary(outcomes, running.seconds))  # for `pytest -s`

    assert code == 0, stopping.output()[-3000:]
    assert "Handling signal: term" in stopping.output()
    _assert_nothing_lost(outcomes, author)
    assert stopping.requests("/api/posts/") and other.requests("/api/posts/")  # both served the load
    # The replica comes back on its address for whatever runs next.
    live.stack.webs[0] = harness.Gunicorn.start(stopping.env, live.stack.workdir, port=stopping.port)


# --- Load ----------------------------------------------------------------------------------------
def test_a_bounded_load_on_reads_and_writes_gets_no_5xx_and_loses_no_write(live):
    """64 clients for 30 s through nginx, cycling list, detail and create (tests/support/load.py):
    every response is a 200 or 201, none fails, and the posts in the database are exactly
    those whose create was answered 201."""
    author = sign_up(live.stack.web.url, "loader")
    detail = write_post(live, author, "Read under load")
    with load.Load(live.url, author.access, tag="load", threads=LOAD_CLIENTS, detail=detail) as running:
        time.sleep(LOAD_SECONDS)
    outcomes = running.stop()
    print("load:", load.summary(outcomes, running.seconds))  # the figures, for `pytest -s`

    assert {outcome.status for outcome in outcomes} == {200, 201}, load.failures(outcomes)[:5]
    created = [outcome.created_id for outcome in outcomes if outcome.status == 201]
    stored = set(Post.objects.filter(author_id=author.id).values_list("pk", flat=True))
    assert stored == {detail, *created} and len(set(created)) == len(created)
