"""The accounts' housekeeping task, run in-process (beat's schedule of it: tests/unit/blog/test_tasks.py)."""

import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tasks import flush_expired_tokens
from tests.support import child
from tests.support.external import ROOT

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
    assert not BlacklistedToken.objects.filter(token_id=expired.pk).exists()
    assert OutstandingToken.objects.filter(jti=live["jti"]).exists()


def test_the_token_flush_deletes_the_sign_ins_whose_newest_refresh_token_expired(user):
    from accounts.models import TokenFamily

    live = TokenFamily.objects.create(user=user, expires_at=timezone.now() + timedelta(days=1))
    TokenFamily.objects.create(user=user, expires_at=timezone.now() - timedelta(seconds=1))

    flush_expired_tokens.apply().get()

    assert list(TokenFamily.objects.all()) == [live]


@pytest.mark.parametrize("module", ["accounts.verification", "blog.outbox"])
def test_a_web_process_knows_the_mail_tasks_it_enqueues_by_name(module):
    """A fresh Django process (what gunicorn's workers are) has every task it enqueues registered:
    an unregistered one fails its enqueue and waits for beat's sweep instead of going out at once."""
    code = (
        "import sys, django; django.setup(); from importlib import import_module; from celery import current_app; "
        "outbox = import_module(sys.argv[1]); names = [v for k, v in vars(outbox).items() if k.endswith('_TASK')]; "
        "print(names); assert names and all(name in current_app.tasks for name in names), names"
    )
    env = {**child.app_env(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", code, module], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
