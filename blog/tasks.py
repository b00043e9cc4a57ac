"""Celery tasks: entry points with their retry policy around them, no logic of their own
(the notifications outbox is blog/outbox.py)."""

from celery import shared_task

from config.celery import MAIL_TASK_OPTIONS

from . import outbox


@shared_task(
    name=outbox.NOTIFY_TASK,
    bind=True,
    **MAIL_TASK_OPTIONS,
)
def notify_subscribers(self, post_id: int) -> int:
    return outbox.post_notify_subscribers(post_id=post_id)


@shared_task
def sweep_pending_notifications(grace_seconds: int | None = None) -> int:
    """The outbox sweep: re-enqueue published posts whose notifications are still pending."""
    return outbox.notifications_sweep(grace_seconds=grace_seconds)
