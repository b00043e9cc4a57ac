"""The accounts' housekeeping task, run in-process (beat's schedule of it: tests/unit/blog/test_tasks.py)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tasks import flush_expired_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_in_process")]


def test_the_token_flush_deletes_expired_refresh_tokens_only(user):
    live = RefreshToken.for_user(user)  # recorded as outstanding, valid for days
    now = timezone.now()
    expired = OutstandingToken.objects.create(
        user=user, jti=uuid.uuid4().hex, token="expired", created_at=now - timedelta(days=8), expires_at=now
    )
    BlacklistedToken.objects.create(token=expired)

    flush_expired_tokens.apply().get()

    assert not OutstandingToken.objects.filter(pk=expired.pk).exists()
    assert not BlacklistedToken.objects.exists()
    assert OutstandingToken.objects.filter(jti=live["jti"]).exists()


def test_the_token_flush_deletes_the_sign_ins_whose_newest_refresh_token_expired(user):
    from accounts.models import TokenFamily

    live = TokenFamily.objects.create(user=user, expires_at=timezone.now() + timedelta(days=1))
    TokenFamily.objects.create(user=user, expires_at=timezone.now() - timedelta(seconds=1))

    flush_expired_tokens.apply().get()

    assert list(TokenFamily.objects.all()) == [live]
