"""Celery tasks. They hold no logic of their own: they call services with retries around them."""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from config import limits

from .models import Post

logger = logging.getLogger(__name__)

# Failures worth retrying: the mail server or the database being briefly unreachable.
TRANSIENT_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OperationalError, InterfaceError)


@shared_task(
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
    from .services import post_notify_subscribers

    return post_notify_subscribers(post_id=post_id)


@shared_task
def sweep_pending_notifications(grace_seconds: int | None = None) -> int:
    """Re-enqueue published posts whose notifications are still pending (the outbox sweep).

    Posts published within `grace_seconds` (default: the sweep interval, OUTBOX_SWEEP_SECONDS)
    are left to their own on-commit enqueue.
    """
    from .services import notifications_enqueue

    if grace_seconds is None:
        grace_seconds = settings.OUTBOX_SWEEP_SECONDS
    cutoff = timezone.now() - timezone.timedelta(seconds=grace_seconds)
    pending = Post.objects.filter(notifications_pending=True, published=True, published_at__lte=cutoff).values_list(
        "pk", flat=True
    )
    enqueued = sum(notifications_enqueue(post_id=post_id) for post_id in pending)
    if enqueued:
        logger.info("outbox sweep enqueued %s posts", enqueued)
    return enqueued


@shared_task
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the JWT blacklist tables."""
    call_command("flushexpiredtokens")
