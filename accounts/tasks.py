"""Celery tasks of the accounts: housekeeping of the JWT tables, run by beat."""

from celery import shared_task
from django.core.management import call_command


@shared_task
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the JWT blacklist tables."""
    call_command("flushexpiredtokens")
