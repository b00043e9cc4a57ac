"""Retries of the notification task against a real SMTP server on loopback (tests/support/mailserver.py),
tasks run in-process: transient failures are retried with jittered backoff, permanent ones are not,
and nothing is lost or sent twice. The rest of the tasks' guarantees: tests/unit/blog/test_tasks.py."""

import smtplib
import ssl

import pytest

from blog.models import Notification
from blog.tasks import notify_subscribers
from config.celery import app as celery_app
from tests.support.external import free_port
from tests.support.tasks import pending_post, recipients

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_in_process")]


@pytest.fixture
def retried_eagerly():
    """Eager tasks retry in place (countdowns are computed, never waited for) only when their
    errors do not propagate; the final error is then raised by the result's get()."""
    saved = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = saved


def test_a_mail_server_that_refuses_connections_is_retried_with_jittered_backoff(
    audience, smtp, email_url, task_runs, retried_eagerly
):
    """421 "try again later" on every connection: the task is retried max_retries times with an
    exponential, jittered countdown (eagerly: no waiting), then fails; nothing is lost, the post
    stays in the outbox, and once the server is back one run sends each email once."""
    smtp.greeting_code = 421
    email_url(smtp.url)
    post = pending_post(audience.author)

    with pytest.raises(smtplib.SMTPConnectError):
        notify_subscribers.apply(args=[post.id]).get()

    assert notify_subscribers.max_retries == 6
    assert smtp.connections == notify_subscribers.max_retries + 1
    retries = task_runs.retries
    assert [retry.retries for retry in retries] == list(range(notify_subscribers.max_retries))
    assert all(isinstance(retry.exc, smtplib.SMTPConnectError) for retry in retries)
    # retry_backoff=2: up to 2, 4, 8... seconds, each drawn at random below its ceiling (full jitter).
    ceilings = [min(notify_subscribers.retry_backoff_max, 2 * 2**retry.retries) for retry in retries]
    countdowns = [retry.countdown for retry in retries]
    assert all(0 <= countdown <= ceiling for countdown, ceiling in zip(countdowns, ceilings, strict=True)), countdowns
    assert countdowns != ceilings, "no jitter: every retry waited exactly its ceiling"
    post.refresh_from_db()
    assert post.notifications_pending is True
    assert recipients(post) == sorted(user.pk for user in audience.subscribers)

    smtp.greeting_code = 220
    assert notify_subscribers.apply(args=[post.id]).get() == len(audience.emailed)

    assert sorted(received.rcpt_to for received in smtp.received) == sorted((user.email,) for user in audience.emailed)
    post.refresh_from_db()
    assert post.notifications_pending is False


def test_a_mail_server_that_is_down_is_retried(audience, email_url, task_runs, retried_eagerly):
    email_url(f"smtp://127.0.0.1:{free_port()}")  # nothing listens there: ConnectionRefusedError
    post = pending_post(audience.author)

    with pytest.raises(ConnectionRefusedError):
        notify_subscribers.apply(args=[post.id]).get()

    assert len(task_runs.retries) == notify_subscribers.max_retries
    assert all(isinstance(retry.exc, ConnectionRefusedError) for retry in task_runs.retries)
    post.refresh_from_db()
    assert post.notifications_pending is True


def test_a_mail_server_that_never_answers_times_out_and_is_retried(
    audience, smtp, email_url, settings, task_runs, retried_eagerly
):
    """EMAIL_TIMEOUT bounds a send: a server that takes the connection and then says nothing fails
    it with a timeout, which is retried, instead of holding the worker until its time limit."""
    email_url(smtp.url)
    settings.EMAIL_TIMEOUT = 1
    smtp.hold(2)
    post = pending_post(audience.author)
    last = notify_subscribers.max_retries - 1  # start at the last retry: two held attempts, not seven

    # smtplib reports the socket's timeout while waiting for the greeting as a disconnection.
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        notify_subscribers.apply(args=[post.id], retries=last).get()

    assert [retry.retries for retry in task_runs.retries] == [last]
    assert "timed out" in str(task_runs.retries[0].exc)
    post.refresh_from_db()
    assert post.notifications_pending is True
    smtp.release()


def test_a_permanent_error_is_not_retried_and_leaves_the_post_to_the_sweep(
    audience, smtp, email_url, task_runs, retried_eagerly
):
    """EMAIL_URL asks for TLS (smtp+ssl) where the server speaks plain SMTP: a configuration
    error that no retry can fix. The task fails at once; the post stays in the outbox."""
    email_url(f"smtp+ssl://127.0.0.1:{smtp.port}")
    post = pending_post(audience.author)

    with pytest.raises(ssl.SSLError):
        notify_subscribers.apply(args=[post.id]).get()

    assert task_runs.retries == []
    assert smtp.connections == 1
    assert smtp.received == []
    post.refresh_from_db()
    assert post.notifications_pending is True
    assert not Notification.objects.filter(post=post, emailed_at__isnull=False).exists()


def test_a_recipient_refused_for_now_is_retried_without_emailing_the_others_twice(
    audience, smtp, email_url, task_runs, retried_eagerly
):
    smtp.refuse[audience.bob.email] = 450  # mailbox busy: a temporary refusal
    email_url(smtp.url)
    post = pending_post(audience.author)

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        notify_subscribers.apply(args=[post.id]).get()

    assert len(task_runs.retries) == notify_subscribers.max_retries
    # Seven attempts, and Alice was emailed by the first one only.
    assert [received.rcpt_to for received in smtp.received] == [(audience.alice.email,)]
    post.refresh_from_db()
    assert post.notifications_pending is True

    del smtp.refuse[audience.bob.email]
    assert notify_subscribers.apply(args=[post.id]).get() == 1
    assert sorted(received.rcpt_to for received in smtp.received) == sorted((user.email,) for user in audience.emailed)
    post.refresh_from_db()
    assert post.notifications_pending is False


def test_a_recipient_refused_for_good_does_not_keep_the_post_in_the_outbox(
    audience, smtp, email_url, task_runs, retried_eagerly, caplog
):
    """550: the server will never take this address. Retrying, or sweeping the post every
    minute for ever, cannot help: the refusal is logged and everyone else is emailed."""
    smtp.refuse[audience.bob.email] = 550
    email_url(smtp.url)
    post = pending_post(audience.author)

    assert notify_subscribers.apply(args=[post.id]).get() == 1

    assert task_runs.retries == []
    assert [received.rcpt_to for received in smtp.received] == [(audience.alice.email,)]
    assert recipients(post) == sorted(user.pk for user in audience.subscribers)  # Bob is still notified in the app
    post.refresh_from_db()
    assert post.notifications_pending is False
    assert any(
        record.levelname == "WARNING" and f"user {audience.bob.pk}" in record.getMessage() for record in caplog.records
    ), caplog.text
