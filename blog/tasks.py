"""Celery tasks: entry points with their retry policy around them, no logic of their own
(the notifications outbox is blog/outbox.py)."""

import smtplib

from celery import shared_task
from django.db import InterfaceError, OperationalError

from config import limits

from . import outbox

# Failures worth retrying: the mail server or the database being briefly unreachable.
TRANSIENT_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OperationalError, InterfaceError)


@shared_task(
    name=outbox.NOTIFY_TASK,
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=limits.NOTIFY_SOFT_TIME_LIMIT_SECONDS,
    time_limit=limits.NOTIFY_TIME_LIMIT_SECONDS,
)
def notify_subscribers(self, post_id: int) -> int:
    return outbox.post_notify_subscribers(post_id=post_id)


@shared_task
def sweep_pending_notifications(grace_seconds: int | None = None) -> int:
    """The outbox sweep: re-enqueue published posts whose notifications are still pending."""
    return outbox.notifications_sweep(grace_seconds=grace_seconds)
