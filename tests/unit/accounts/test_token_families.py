"""Refresh-token families: every refresh token descends from one sign-in; a rotated token used
again revokes the family (the newest token of that sign-in too) and no other sign-in; signing out
ends the family. The race between concurrent refreshes, on Postgres:
tests/integration/accounts/test_concurrency.py."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken as SimpleJWTRefreshToken

from accounts.models import TokenFamily
from tests.support.contract import bearer, error_message, obtain_tokens, ok, unauthorized
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def refresh(token):
    return APIClient().post("/api/auth/token/refresh/", {"refresh": token}, format="json")


def verify(token):
    return APIClient().post("/api/auth/token/verify/", {"token": token}, format="json")


@pytest.fixture
def no_grace(settings):
    """Reuse counts as theft at once, as it does once JWT_REFRESH_REUSE_GRACE_SECONDS has passed."""
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0


def test_reuse_of_a_rotated_refresh_token_revokes_its_sign_in_and_no_other(user, no_grace):
    stolen = obtain_tokens(user.username)  # the sign-in whose refresh token leaks
    elsewhere = obtain_tokens(user.username)  # the same user's other device
    second = ok(refresh(stolen["refresh"]))
    newest = ok(refresh(second["refresh"]))

    # The first token, rotated long ago, comes back: a copy is in someone else's hands.
    error_message(refresh(stolen["refresh"]), 401)

    # Every refresh token of that sign-in is dead, the newest included, wherever it is presented.
    for token in (second["refresh"], newest["refresh"]):
        error_message(refresh(token), 401)
        error_message(verify(token), 401)
    error_message(bearer(newest["access"]).post("/api/auth/logout/", {"refresh": newest["refresh"]}), 401)
    assert TokenFamily.objects.get(revoked_reason=TokenFamily.Reason.REUSE).user == user

    # The other sign-in goes on: its access token serves, its refresh token rotates.
    assert ok(bearer(elsewhere["access"]).get("/api/me/"))["id"] == user.pk
    assert ok(bearer(ok(refresh(elsewhere["refresh"]))["access"]).get("/api/me/"))["id"] == user.pk
    # An access token of the revoked sign-in lives until it expires (JWT_ACCESS_MINUTES).
    assert ok(bearer(newest["access"]).get("/api/me/"))["id"] == user.pk


def test_a_token_used_again_within_the_grace_is_refused_alone(user):
    """A client's duplicate request (two tabs, a retry) right after a rotation is refused, but the
    sign-in survives: the token the first request received still works."""
    tokens = obtain_tokens(user.username)
    rotated = ok(refresh(tokens["refresh"]))
    error_message(refresh(tokens["refresh"]), 401)
    assert ok(bearer(ok(refresh(rotated["refresh"]))["access"]).get("/api/me/"))["id"] == user.pk
    assert not TokenFamily.objects.filter(revoked_at__isnull=False).exists()


def test_the_grace_is_measured_from_the_tokens_use(user, settings):
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 60
    tokens = obtain_tokens(user.username)
    rotated = ok(refresh(tokens["refresh"]))
    error_message(refresh(tokens["refresh"]), 401)
    ok(refresh(rotated["refresh"]))  # within the minute: the sign-in lives
    fresh = obtain_tokens(user.username)
    rotated = ok(refresh(fresh["refresh"]))
    # The same reuse, a minute after the rotation: theft.
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    BlacklistedToken.objects.update(blacklisted_at=timezone.now() - timezone.timedelta(seconds=61))
    error_message(refresh(fresh["refresh"]), 401)
    error_message(refresh(rotated["refresh"]), 401)


def test_sign_out_ends_the_sign_in_and_answers_401_when_repeated(user, no_grace):
    tokens = obtain_tokens(user.username)
    elsewhere = obtain_tokens(user.username)
    rotated = ok(refresh(tokens["refresh"]))
    client = bearer(rotated["access"])
    assert client.post("/api/auth/logout/", {"refresh": rotated["refresh"]}).status_code == 204
    assert TokenFamily.objects.filter(revoked_reason=TokenFamily.Reason.SIGNED_OUT).count() == 1

    # Signing out again, or refreshing, with that token or an older one of the sign-in: 401 alike.
    for token in (rotated["refresh"], tokens["refresh"]):
        error_message(client.post("/api/auth/logout/", {"refresh": token}), 401)
        error_message(refresh(token), 401)
        error_message(verify(token), 401)
    ok(refresh(elsewhere["refresh"]))


def test_a_refresh_token_from_before_families_starts_one_when_rotated(user, no_grace):
    """Tokens issued before this release carry no family: they rotate once into one, and from then
    on a reuse revokes it. A reuse of the family-less token itself is refused alone."""
    legacy = str(SimpleJWTRefreshToken.for_user(user))
    rotated = ok(refresh(legacy))
    family = TokenFamily.objects.get(user=user)
    assert SimpleJWTRefreshToken(rotated["refresh"])["family"] == str(family.pk)
    newest = ok(refresh(rotated["refresh"]))
    error_message(refresh(legacy), 401)
    ok(refresh(newest["refresh"]))  # nothing to revoke from the family-less token
    error_message(refresh(rotated["refresh"]), 401)  # a reuse inside the family
    error_message(refresh(newest["refresh"]), 401)


def test_each_sign_in_starts_a_family_that_rotation_keeps(user):
    first, second = obtain_tokens(user.username), obtain_tokens(user.username)
    families = [SimpleJWTRefreshToken(tokens["refresh"])["family"] for tokens in (first, second)]
    assert families[0] != families[1]
    assert {str(pk) for pk in TokenFamily.objects.filter(user=user).values_list("pk", flat=True)} == set(families)
    assert SimpleJWTRefreshToken(ok(refresh(first["refresh"]))["refresh"])["family"] == families[0]


def test_a_deleted_users_refresh_token_is_401_and_its_families_go_with_it(user):
    """A deleted user's tokens: their family goes with them, and refresh says 401, not 500."""
    tokens = obtain_tokens(user.username)
    user.delete()
    unauthorized(refresh(tokens["refresh"]))
    assert not TokenFamily.objects.exists()


def test_staff_can_end_a_sign_in_from_the_admin(user, client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    lost, kept = obtain_tokens(user.username), obtain_tokens(user.username)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    family = SimpleJWTRefreshToken(lost["refresh"])["family"]
    assert family in client.get("/admin/accounts/tokenfamily/").content.decode()

    response = client.post("/admin/accounts/tokenfamily/", {"action": "revoke", "_selected_action": [family]})
    assert response.status_code == 302
    error_message(refresh(lost["refresh"]), 401)
    ok(refresh(kept["refresh"]))
