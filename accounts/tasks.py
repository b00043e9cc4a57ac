"""Celery tasks of the accounts: the verification mail's outbox (accounts/verification.py) and
housekeeping of the JWT tables, run by beat. No logic of their own."""

from celery import shared_task
from django.core.management import call_command

from config import limits
from config.celery import TRANSIENT_ERRORS

from . import services, verification


@shared_task(
    name=verification.SEND_TASK,
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
def send_verification_email(user_id: int) -> int:
    return verification.verification_mail_send(user_id=user_id)


@shared_task
def sweep_pending_verification_emails(grace_seconds: int | None = None) -> int:
    """The verification outbox's sweep: re-enqueue verification mails still pending."""
    return verification.verification_sweep(grace_seconds=grace_seconds)


@shared_task
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the JWT blacklist tables, and the token families (sign-ins)
    whose newest refresh token has expired."""
    call_command("flushexpiredtokens")
    services.token_families_flush()
