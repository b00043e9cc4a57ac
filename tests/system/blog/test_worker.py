"""Background work through a real Redis broker and scripts/worker, the production entry, as
subprocesses against the test database (Postgres only) and a real SMTP server on loopback: two
workers delivering the same message at once, and workers killed with SIGKILL in the middle of a task.
The same flows with an in-process worker: tests/integration/blog/test_tasks_broker.py.

Each test publishes to and consumes from a queue of its own (the broker fixture, tests/conftest.py),
so tests running in parallel (xdist) never take each other's messages."""

import os
import signal
import time
import uuid

import pytest

from blog.models import Post
from blog.tasks import notify_subscribers
from tests.support import harness
from tests.support.contract import publish
from tests.support.factories import PostFactory
from tests.support.tasks import DEADLINE, NOTIFY, assert_notified_once

pytestmark = pytest.mark.django_db(transaction=True)  # a worker only sees committed rows


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


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
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
