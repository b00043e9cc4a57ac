"""Celery tasks of the accounts: the verification mail's outbox (accounts/verification.py) and
housekeeping of the JWT tables, run by beat. No logic of their own."""

from celery import shared_task
from django.core.management import call_command

from config.celery import MAIL_TASK_OPTIONS

from . import services, verification


@shared_task(
    name=verification.SEND_TASK,
    **MAIL_TASK_OPTIONS,
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
