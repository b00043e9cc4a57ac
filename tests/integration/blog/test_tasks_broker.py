"""Background work through a real Redis broker and real Celery workers.

The flows run against an in-process worker (Celery's start_worker, a thread of this process
consuming from Redis), on SQLite and Postgres alike; what it emails lands in mail.outbox.
What needs processes runs the production entry, scripts/worker, as a subprocess against the
test database (Postgres only) and a real SMTP server on loopback: two workers delivering the
same message at once, and workers killed with SIGKILL in the middle of a task.

Each test publishes to and consumes from a queue of its own, so tests running in parallel
(xdist) never take each other's messages; the queue's keys are deleted afterwards.
"""

import os
import signal
import time
import uuid
from dataclasses import dataclass

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker

from blog.models import Notification, Post
from blog.tasks import notify_subscribers, sweep_pending_notifications
from config.celery import app as celery_app
from tests.support import harness
from tests.support.contract import publish
from tests.support.external import free_port, redis_url
from tests.support.factories import PostFactory
from tests.support.tasks import NOTIFY, SWEEP

pytestmark = pytest.mark.django_db(transaction=True)  # a worker only sees committed rows

DEADLINE = 60.0  # seconds; generous for a loaded CI machine, never reached when things work


@dataclass(frozen=True)
class Broker:
    url: str
    queue: str


def _use_broker(url: str) -> None:
    """Publish to `url` from now on: pooled connections to the previous broker are forgotten
    (what Celery itself does after a fork)."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker():
    """The Redis at REDIS_URL as the broker, tasks no longer run in-process, and a queue for this test only."""
    import redis

    url = redis_url()
    queue = f"blog-tests-{uuid.uuid4().hex}"
    conf = celery_app.conf
    saved = {name: conf[name] for name in ("task_always_eager", "task_default_queue", "worker_enable_remote_control")}
    saved_url = conf.broker_url
    # No remote control: its broadcast queues would outlive the test; nothing here uses it.
    conf.update(task_always_eager=False, task_default_queue=queue, worker_enable_remote_control=False)
    _use_broker(url)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    # tests/system/test_procfile.py claims (and then flushes) a Redis database only if it is empty.
    client.set(f"{queue}.in-use", 1, ex=600)
    published: list[str] = []

    def record(headers=None, **kwargs):
        published.append(headers["id"])

    signals.after_task_publish.connect(record, weak=False)
    try:
        yield Broker(url=url, queue=queue)
    finally:
        signals.after_task_publish.disconnect(record)
        conf.update(saved)
        _use_broker(saved_url)
        keys = [*client.scan_iter(match=f"*{queue}*"), *(f"celery-task-meta-{task_id}" for task_id in published)]
        client.delete(*keys)
        client.close()


@pytest.fixture
def worker(broker, task_runs):
    """A Celery worker in a thread of this process, consuming this test's queue from Redis."""
    with start_worker(
        celery_app,
        pool="threads",  # "solo" would close this thread's database connection as if it were a forked child's
        concurrency=1,
        queues=[broker.queue],
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=DEADLINE,
    ) as controller:
        yield controller


def assert_notified_once(post, audience, emailed_to: list[tuple[str, ...]]) -> None:
    """One notification per subscriber, one email per subscriber with an address, the outbox drained."""
    recipients = sorted(Notification.objects.filter(post=post).values_list("recipient_id", flat=True))
    assert recipients == sorted(user.pk for user in audience.subscribers)
    assert sorted(emailed_to) == sorted((user.email,) for user in audience.emailed)
    post.refresh_from_db()
    assert post.notifications_pending is False


# --- An in-process worker ----------------------------------------------------------------
def test_a_publish_is_delivered_through_the_broker_by_a_worker(audience, worker, task_runs, mailoutbox):
    post = PostFactory(author=audience.author, title="Through Redis")

    response = publish(audience.author, post)

    assert response.status_code == 200, response.content
    [run] = task_runs.wait_for(NOTIFY, 1, timeout=DEADLINE)
    assert (run.args, run.state, run.retval, run.eager) == ((post.id,), "SUCCESS", len(audience.emailed), False)
    assert_notified_once(post, audience, [tuple(message.to) for message in mailoutbox])
    assert {message.subject for message in mailoutbox} == {f"New post by {audience.author.username}: Through Redis"}


def test_a_publish_while_the_broker_is_down_waits_in_the_outbox_until_the_sweep(
    audience, broker, worker, task_runs, mailoutbox, caplog
):
    post = PostFactory(author=audience.author)
    _use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    response = publish(audience.author, post)

    assert response.status_code == 200, response.content
    assert response.json()["published"] is True
    post.refresh_from_db()
    assert (post.published, post.notifications_pending) == (True, True)
    assert not Notification.objects.filter(post=post).exists()
    assert f"notification enqueue failed for post {post.id}" in caplog.text

    _use_broker(broker.url)  # the broker is back
    # What beat sends every minute, here with no grace period to wait for.
    sweep_pending_notifications.delay(grace_seconds=0)

    [swept] = task_runs.wait_for(SWEEP, 1, timeout=DEADLINE)
    assert swept.retval == 1
    [run] = task_runs.wait_for(NOTIFY, 1, timeout=DEADLINE)
    assert (run.args, run.state) == ((post.id,), "SUCCESS")
    assert_notified_once(post, audience, [tuple(message.to) for message in mailoutbox])

    sweep_pending_notifications.delay(grace_seconds=0)
    assert task_runs.wait_for(SWEEP, 2, timeout=DEADLINE)[1].retval == 0  # enqueued nothing
    assert len(task_runs.of(NOTIFY)) == 1
    assert len(mailoutbox) == len(audience.emailed)


def test_the_same_message_delivered_twice_notifies_and_emails_once(audience, worker, task_runs, mailoutbox):
    post = PostFactory(author=audience.author, live=True, notifications_pending=True)
    task_id = str(uuid.uuid4())

    notify_subscribers.apply_async(args=[post.id], task_id=task_id)
    notify_subscribers.apply_async(args=[post.id], task_id=task_id)

    runs = task_runs.wait_for(NOTIFY, 2, timeout=DEADLINE)
    assert [run.task_id for run in runs] == [task_id, task_id]
    assert [run.retval for run in runs] == [len(audience.emailed), 0]
    assert_notified_once(post, audience, [tuple(message.to) for message in mailoutbox])


# --- scripts/worker in a subprocess ------------------------------------------------------
@pytest.fixture
def start_worker_process(broker, smtp, tmp_path):
    """Start scripts/worker against the test database, this test's queue and the SMTP server."""
    started: list[harness.Worker] = []

    def start(**overrides: str) -> harness.Worker:
        env = harness.app_env(
            harness.live_database_url(),
            REDIS_URL=broker.url,
            CELERY_TASK_ALWAYS_EAGER="false",
            # `celery worker` reads its options from CELERY_WORKER_<OPTION> too: -Q here.
            CELERY_WORKER_QUEUES=broker.queue,
            EMAIL_URL=smtp.url,
            # A held email waits for the test to release it, not for the production timeout.
            EMAIL_TIMEOUT="120",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            **overrides,
        )
        try:
            worker = harness.Worker.start(env, tmp_path / f"worker-{len(started)}.log", timeout=DEADLINE)
        except RuntimeError as exc:
            raise AssertionError(str(exc)) from None
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.mark.e2e
def test_two_workers_delivering_the_same_message_at_once_email_each_subscriber_once(
    audience, start_worker_process, smtp
):
    """Worker A holds a notification's row while its mail server hangs; worker B, given the
    same message meanwhile, skips that row and emails the rest; A then finishes. Nobody gets
    two emails, and the post leaves the outbox only once every email is out."""
    worker = start_worker_process(CELERY_CONCURRENCY="2")
    post = PostFactory(author=audience.author, live=True, notifications_pending=True)
    task_id = str(uuid.uuid4())
    smtp.hold(1)

    notify_subscribers.apply_async(args=[post.id], task_id=task_id)
    smtp.wait_held(1, timeout=DEADLINE)
    notify_subscribers.apply_async(args=[post.id], task_id=task_id)

    assert harness.wait_until(
        lambda: worker.successes(NOTIFY, task_id), "the second delivery to finish", timeout=DEADLINE, logs=(worker,)
    ) == [1]
    post.refresh_from_db()
    assert post.notifications_pending is True  # the held email is not out yet
    smtp.release()

    harness.wait_until(
        lambda: len(worker.successes(NOTIFY, task_id)) == 2,
        "the first delivery to finish",
        timeout=DEADLINE,
        logs=(worker,),
    )
    assert worker.successes(NOTIFY, task_id) == [1, 1]
    assert_notified_once(post, audience, [received.rcpt_to for received in smtp.received])


@pytest.mark.e2e
def test_a_worker_process_killed_mid_task_has_its_message_delivered_again(audience, start_worker_process, smtp):
    """The child running the task dies (SIGKILL, as the OOM killer does) while sending an email:
    reject_on_worker_lost puts the unacknowledged message (acks_late) back on the queue, and a
    new child delivers it; nothing is lost and nobody is emailed twice."""
    worker = start_worker_process(CELERY_CONCURRENCY="1")
    post = PostFactory(author=audience.author)
    smtp.hold(1)

    assert publish(audience.author, post).status_code == 200
    smtp.wait_held(1, timeout=DEADLINE)
    [child] = worker.children()
    os.kill(child, signal.SIGKILL)
    smtp.release()

    harness.wait_until(
        lambda: not Post.objects.get(pk=post.pk).notifications_pending,
        "the redelivery",
        timeout=DEADLINE,
        logs=(worker,),
    )
    assert "WorkerLostError" in worker.output()
    assert_notified_once(post, audience, [received.rcpt_to for received in smtp.received])


@pytest.mark.e2e
def test_a_message_whose_worker_died_is_delivered_by_the_next_worker(audience, start_worker_process, smtp):
    """The whole worker dies mid-task (master and child, SIGKILL): nothing is acknowledged, so
    the message stays in Redis and, past the visibility timeout (CELERY_VISIBILITY_TIMEOUT),
    the next worker to start takes it back and delivers it."""
    visibility_timeout = 3
    first = start_worker_process(CELERY_CONCURRENCY="1", CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout))
    post = PostFactory(author=audience.author)
    smtp.hold(1)

    assert publish(audience.author, post).status_code == 200
    smtp.wait_held(1, timeout=DEADLINE)
    delivered_at = time.monotonic()
    first.kill()
    smtp.release()
    assert smtp.received == []
    # Redis only gives the message back once it is older than the visibility timeout.
    time.sleep(max(0.0, delivered_at + visibility_timeout + 1 - time.monotonic()))

    second = start_worker_process(CELERY_CONCURRENCY="1", CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout))

    harness.wait_until(
        lambda: not Post.objects.get(pk=post.pk).notifications_pending,
        "the redelivery",
        timeout=DEADLINE,
        logs=(second,),
    )
    assert_notified_once(post, audience, [received.rcpt_to for received in smtp.received])
