"""Celery tasks: entry points with their retry policy around them, no logic of their own
(the notifications outbox is blog/outbox.py)."""

from celery import shared_task

from config import limits
from config.celery import TRANSIENT_ERRORS

from . import outbox


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
