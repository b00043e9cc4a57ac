"""Celery tasks of the accounts: housekeeping of the JWT tables, run by beat."""

from celery import shared_task
from django.core.management import call_command

from . import services


@shared_task
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the JWT blacklist tables, and the token families (sign-ins)
    whose newest refresh token has expired."""
    call_command("flushexpiredtokens")
    services.token_families_flush()
