"""Background work with tasks run in-process (the embedded mode, and how the suite runs them):
what publishing a post sets off, and the guarantees of the tasks themselves. They are
idempotent, retried with jittered backoff on transient failures only, swept from the outbox
when their enqueue was lost, and scheduled by beat.

The same tasks through a real Redis broker and real workers: tests/integration/blog/test_tasks_broker.py.
"""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from celery.beat import Scheduler
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from blog import outbox, services
from blog.models import Notification
from blog.tasks import notify_subscribers, sweep_pending_notifications
from config.celery import app as celery_app
from tests.support.contract import publish
from tests.support.external import ROOT
from tests.support.factories import PostFactory, SubscriptionFactory, UserFactory, verified
from tests.support.tasks import NOTIFY, pending_post, recipients

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_in_process")]


# --- Publishing through the API ----------------------------------------------------------
def test_publishing_notifies_each_subscriber_once_and_emails_those_with_an_address(
    audience, mailoutbox, django_capture_on_commit_callbacks
):
    post = PostFactory(author=audience.author, title="Outbox patterns")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = publish(audience.author, post)

    assert response.status_code == 200, response.content
    assert response.json()["published"] is True
    assert len(callbacks) == 1
    assert recipients(post) == sorted(user.pk for user in audience.subscribers)
    # Neither the author nor someone following another author hears of it.
    assert not Notification.objects.filter(recipient__in=[audience.author, audience.outsider]).exists()
    assert sorted(message.to for message in mailoutbox) == sorted([user.email] for user in audience.emailed)
    for message in mailoutbox:
        assert message.subject == f"New post by {audience.author.username}: Outbox patterns"
        assert message.from_email == settings.DEFAULT_FROM_EMAIL
        assert "Outbox patterns" in message.body
    post.refresh_from_db()
    assert post.notifications_pending is False
    # The subscriber without an address is notified in the app, and the outbox is drained all the same.
    assert Notification.objects.get(post=post, recipient=audience.no_email).read_at is None


def test_the_notification_task_is_enqueued_once_with_the_post_id_after_commit(
    audience, task_runs, django_capture_on_commit_callbacks
):
    post = PostFactory(author=audience.author)

    with django_capture_on_commit_callbacks() as callbacks:
        response = publish(audience.author, post)
        assert response.status_code == 200
        # Still inside the transaction: a worker must not look for a post that is not committed yet.
        assert task_runs.of(NOTIFY) == []
    assert len(callbacks) == 1

    callbacks[0]()  # the commit

    assert [run.args for run in task_runs.of(NOTIFY)] == [(post.id,)]


def test_a_publish_rolled_back_with_its_transaction_enqueues_nothing(
    audience, task_runs, mailoutbox, django_capture_on_commit_callbacks
):
    post = PostFactory(author=audience.author)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.post_publish(post=post)
        raise RuntimeError("the surrounding transaction fails after the publish")

    assert callbacks == []
    assert task_runs.of(NOTIFY) == []
    assert mailoutbox == []
    post.refresh_from_db()
    assert (post.published, post.notifications_pending) == (False, False)


def test_publishing_an_already_published_post_enqueues_nothing(
    audience, task_runs, mailoutbox, django_capture_on_commit_callbacks
):
    post = PostFactory(author=audience.author)
    with django_capture_on_commit_callbacks(execute=True):
        assert publish(audience.author, post).status_code == 200
    post.refresh_from_db()
    first_published_at = post.published_at

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = publish(audience.author, post)

    assert response.status_code == 200
    assert callbacks == []
    assert len(task_runs.of(NOTIFY)) == 1
    assert len(mailoutbox) == len(audience.emailed)
    post.refresh_from_db()
    assert post.published_at == first_published_at


# --- Idempotency -------------------------------------------------------------------------
def test_running_the_notification_again_duplicates_nothing(audience, mailoutbox, django_assert_num_queries):
    post = pending_post(audience.author)

    assert notify_subscribers.apply(args=[post.id]).get() == len(audience.emailed)
    assert outbox.post_notify_subscribers(post_id=post.id) == 0
    # A redelivered task for a post already done costs a fixed handful of queries, none per subscriber.
    with django_assert_num_queries(6):
        assert notify_subscribers.apply(args=[post.id]).get() == 0

    assert recipients(post) == sorted(user.pk for user in audience.subscribers)
    assert sorted(message.to for message in mailoutbox) == sorted([user.email] for user in audience.emailed)
    post.refresh_from_db()
    assert post.notifications_pending is False


def test_the_subscribers_are_those_who_followed_when_the_post_was_published(audience, mailoutbox):
    """However late the task runs (a busy worker, a broker outage), someone who follows after the
    publish does not hear of the post, and a second run notifies nobody new."""
    post = pending_post(audience.author)
    newcomer = verified(UserFactory())
    SubscriptionFactory(subscriber=newcomer, author=audience.author)
    assert post.published_at < newcomer.subscriptions.get().created_at

    assert notify_subscribers.apply(args=[post.id]).get() == len(audience.emailed)
    assert notify_subscribers.apply(args=[post.id]).get() == 0

    assert recipients(post) == sorted(user.pk for user in audience.subscribers)
    assert newcomer.email not in [address for message in mailoutbox for address in message.to]
    later = pending_post(audience.author)
    assert notify_subscribers.apply(args=[later.id]).get() == len(audience.emailed) + 1
    assert newcomer.pk in recipients(later)


def test_a_draft_or_a_deleted_post_notifies_nobody(audience, mailoutbox):
    draft = PostFactory(author=audience.author, notifications_pending=True)
    deleted = pending_post(audience.author)
    deleted_id = deleted.id
    deleted.delete()

    assert notify_subscribers.apply(args=[draft.id]).get() == 0
    assert notify_subscribers.apply(args=[deleted_id]).get() == 0

    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_a_title_with_a_line_break_is_emailed_on_one_subject_line(audience, mailoutbox):
    """A header may not contain a line break (Django refuses to send it); a title may."""
    post = pending_post(audience.author, title="Part one\nPart two")

    assert notify_subscribers.apply(args=[post.id]).get() == len(audience.emailed)

    assert {message.subject for message in mailoutbox} == {f"New post by {audience.author.username}: Part one Part two"}
    post.refresh_from_db()
    assert post.notifications_pending is False


# --- The outbox sweep and the token flush ------------------------------------------------
def test_the_sweep_enqueues_only_published_pending_posts_past_the_grace_period(
    audience, task_runs, mailoutbox, django_assert_num_queries
):
    now = timezone.now()
    stale = pending_post(audience.author, published_at=now - timedelta(minutes=5))
    fresh = pending_post(audience.author, published_at=now - timedelta(seconds=10))
    pending_post(audience.author, published_at=now - timedelta(minutes=5), notifications_pending=False)
    PostFactory(author=audience.author, notifications_pending=True)  # a draft

    assert sweep_pending_notifications.apply().get() == 1  # beat's call: the default 60 s grace

    assert [run.args for run in task_runs.of(NOTIFY)] == [(stale.id,)]
    assert recipients(stale) == sorted(user.pk for user in audience.subscribers)
    assert recipients(fresh) == []

    assert sweep_pending_notifications.apply(kwargs={"grace_seconds": 0}).get() == 1
    assert [run.args for run in task_runs.of(NOTIFY)] == [(stale.id,), (fresh.id,)]
    assert len(mailoutbox) == 2 * len(audience.emailed)

    # Nothing left in the outbox: one query, nothing enqueued.
    with django_assert_num_queries(1):
        assert sweep_pending_notifications.apply(kwargs={"grace_seconds": 0}).get() == 0
    assert len(task_runs.of(NOTIFY)) == 2


def test_the_sweeps_default_grace_is_its_interval(audience, task_runs, settings):
    """OUTBOX_SWEEP_SECONDS=5: beat sweeps every 5 s and leaves only posts younger than that."""
    settings.OUTBOX_SWEEP_SECONDS = 5
    now = timezone.now()
    older = pending_post(audience.author, published_at=now - timedelta(seconds=8))
    pending_post(audience.author, published_at=now - timedelta(seconds=2))

    assert sweep_pending_notifications.apply().get() == 1
    assert [run.args for run in task_runs.of(NOTIFY)] == [(older.id,)]


# --- Configuration -----------------------------------------------------------------------
def test_beat_runs_the_outbox_sweep_every_minute_and_the_token_flush_daily():
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovers every app's tasks
    entries = Scheduler(app=celery_app, lazy=True)
    entries.merge_inplace(celery_app.conf.beat_schedule)  # what beat itself does with the setting

    sweep = entries.schedule["notifications-outbox-sweep"]
    flush = entries.schedule["flush-expired-jwt-tokens"]

    assert (sweep.task, sweep.schedule.run_every) == ("blog.tasks.sweep_pending_notifications", timedelta(seconds=60))
    assert (flush.task, flush.schedule.run_every) == ("accounts.tasks.flush_expired_tokens", timedelta(days=1))
    for entry in (sweep, flush):
        # Registered under that name (NotRegistered otherwise), called without arguments.
        assert celery_app.tasks[entry.task].name == entry.task
        assert (entry.args, entry.kwargs) == ((), {})


def test_no_task_can_outlive_the_brokers_visibility_timeout():
    """Redis hands a message nobody acknowledged to another worker after the visibility
    timeout. With acks_late a message is acknowledged when its task ends, and a retry waits
    for its countdown in the worker, unacknowledged: both must end well before the timeout,
    or the task would run twice on a healthy worker."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    notify = celery_app.tasks[NOTIFY]
    longest_countdown = min(notify.retry_backoff_max, notify.retry_backoff * 2 ** (notify.max_retries - 1))

    assert notify.acks_late and notify.reject_on_worker_lost
    assert (notify.soft_time_limit, notify.time_limit) == (60, 90)  # as the README says
    assert longest_countdown + notify.time_limit < visibility
    for name, task in celery_app.tasks.items():
        if name.startswith("blog."):
            assert (task.time_limit or celery_app.conf.task_time_limit) < visibility, name


@pytest.mark.parametrize(
    ("redis_url", "eager", "broker"),
    [("", "True", "memory://localhost/"), ("redis://127.0.0.1:6379/0", "False", "redis://127.0.0.1:6379/0")],
    ids=["embedded", "with-redis"],
)
def test_tasks_run_in_process_unless_redis_is_configured(redis_url, eager, broker):
    """The embedded default: no REDIS_URL, no broker, tasks run where they are called."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "REDIS_URL"))}
    env.update(REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="config.settings")
    code = "from config.celery import app; print(app.conf.task_always_eager, app.conf.broker_url)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == [eager, broker]
