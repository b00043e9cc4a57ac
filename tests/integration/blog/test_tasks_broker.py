"""Background work through a real Redis broker and a real Celery worker: Celery's start_worker, a
thread of this process consuming from Redis, on SQLite and Postgres alike; what it emails lands
in mail.outbox. The production entry, scripts/worker, in subprocesses: tests/system/blog/test_worker.py.

Each test publishes to and consumes from a queue of its own (the broker fixture, tests/conftest.py),
so tests running in parallel (xdist) never take each other's messages; the queue's keys are deleted
afterwards.
"""

import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from blog.models import Notification
from blog.tasks import notify_subscribers, sweep_pending_notifications
from config.celery import app as celery_app
from tests.support.contract import publish
from tests.support.external import free_port
from tests.support.factories import PostFactory
from tests.support.tasks import DEADLINE, NOTIFY, SWEEP, assert_notified_once, use_broker

pytestmark = pytest.mark.django_db(transaction=True)  # a worker only sees committed rows


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
    use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    response = publish(audience.author, post)

    assert response.status_code == 200, response.content
    assert response.json()["published"] is True
    post.refresh_from_db()
    assert (post.published, post.notifications_pending) == (True, True)
    assert not Notification.objects.filter(post=post).exists()
    assert f"notification enqueue failed for post {post.id}" in caplog.text

    use_broker(broker.url)  # the broker is back
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
