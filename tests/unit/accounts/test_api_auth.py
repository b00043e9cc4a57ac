"""Accounts and JWTs: register, sign in, refresh with rotation, verify, sign out, /api/me/."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from tests.support.contract import (
    bearer,
    error,
    error_codes,
    error_message,
    field_errors,
    obtain_tokens,
    ok,
    snapshot,
    unauthorized,
)
from tests.support.factories import TEST_PASSWORD, UserFactory

User = get_user_model()

pytestmark = pytest.mark.django_db


def register(payload):
    return APIClient().post("/api/auth/register/", payload, format="json")


def refresh(token):
    return APIClient().post("/api/auth/token/refresh/", {"refresh": token}, format="json")


# --- register ----------------------------------------------------------------------------
def test_register_creates_the_account_and_returns_it_without_the_password():
    response = register({"username": "newcomer", "password": TEST_PASSWORD, "email": "new@example.com"})
    body = ok(response, 201)
    assert set(body) == {"id", "username", "email", "date_joined"}
    assert (body["username"], body["email"]) == ("newcomer", "new@example.com")
    assert TEST_PASSWORD.encode() not in response.content
    user = User.objects.get(pk=body["id"])
    assert user.username == "newcomer"
    assert user.check_password(TEST_PASSWORD)
    assert user.password != TEST_PASSWORD  # stored hashed
    assert user.password.encode() not in response.content
    assert not (user.is_staff or user.is_superuser)


def test_register_then_sign_in():
    ok(register({"username": "fresh", "password": TEST_PASSWORD}), 201)
    tokens = obtain_tokens("fresh")
    me = ok(bearer(tokens["access"]).get("/api/me/"))
    assert (me["username"], me["email"]) == ("fresh", "")


def test_register_ignores_privilege_fields():
    body = ok(register({"username": "climber", "password": TEST_PASSWORD, "is_staff": True, "is_superuser": True}), 201)
    user = User.objects.get(pk=body["id"])
    assert not (user.is_staff or user.is_superuser)


@pytest.mark.parametrize("taken", ["Alice", "alice", "ALICE"])
def test_duplicate_username_is_400_whatever_the_case(taken):
    UserFactory(username="alice")
    before = snapshot()
    assert set(field_errors(register({"username": taken, "password": TEST_PASSWORD}))) == {"username"}
    assert snapshot() == before


@pytest.mark.parametrize(
    "password,reason",
    [
        ("short1x", "too short"),
        ("password123", "too common"),
        ("qwertyuiop", "too common"),
        ("4839201756", "entirely numeric"),
        ("margaretha77", "too similar"),
    ],
)
def test_weak_passwords_are_400_naming_password(password, reason):
    before = snapshot()
    messages = field_errors(register({"username": "margaretha", "password": password}))
    assert set(messages) == {"password"}
    assert any(reason in message for message in messages["password"]), messages
    assert snapshot() == before


def test_password_similar_to_the_email_is_refused():
    messages = field_errors(
        register({"username": "x1", "password": "wanderlust.seeker", "email": "wanderlust.seeker@example.com"})
    )
    assert "password" in messages


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"password": TEST_PASSWORD}, "username"),
        ({"username": "nopass"}, "password"),
        ({"username": "has space", "password": TEST_PASSWORD}, "username"),
        ({"username": "bademail", "password": TEST_PASSWORD, "email": "not-an-email"}, "email"),
    ],
)
def test_register_with_missing_or_invalid_fields_is_400_naming_them(payload, field):
    before = snapshot()
    assert field in field_errors(register(payload))
    assert snapshot() == before


# --- tokens ------------------------------------------------------------------------------
def test_token_obtain_returns_an_access_and_a_refresh_token(user):
    tokens = obtain_tokens(user.username)
    assert set(tokens) == {"access", "refresh"}
    assert ok(bearer(tokens["access"]).get("/api/me/"))["id"] == user.pk


@pytest.mark.parametrize("username,password", [("known", "wrong-password-1"), ("nobody", TEST_PASSWORD)])
def test_token_obtain_with_bad_credentials_is_401(username, password):
    UserFactory(username="known")
    response = APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")
    assert error_message(response, 401) == "No active account found with the given credentials"


def test_inactive_user_gets_no_token(user):
    user.is_active = False
    user.save()
    payload = {"username": user.username, "password": TEST_PASSWORD}
    error(APIClient().post("/api/auth/token/", payload, format="json"), 401)


def test_refresh_rotates_and_revokes_the_old_refresh_token(user):
    tokens = obtain_tokens(user.username)
    rotated = ok(refresh(tokens["refresh"]))
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]
    assert ok(bearer(rotated["access"]).get("/api/me/"))["id"] == user.pk
    # BLACKLIST_AFTER_ROTATION: the old refresh token is dead, the new one lives.
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(tokens["refresh"], verify=False)["jti"]).exists()
    error(refresh(tokens["refresh"]), 401)
    ok(refresh(rotated["refresh"]))


def test_verify_accepts_a_valid_token_and_rejects_a_bad_one(user):
    tokens = obtain_tokens(user.username)
    client = APIClient()
    assert ok(client.post("/api/auth/token/verify/", {"token": tokens["access"]}, format="json")) == {}
    error(client.post("/api/auth/token/verify/", {"token": tokens["access"][:-3] + "xyz"}, format="json"), 401)
    error(client.post("/api/auth/token/verify/", {}, format="json"), 400)


def test_verify_rejects_a_revoked_refresh_token(user):
    tokens = obtain_tokens(user.username)
    assert bearer(tokens["access"]).post("/api/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
    error(APIClient().post("/api/auth/token/verify/", {"token": tokens["refresh"]}, format="json"), 401)


def test_a_password_change_revokes_every_token_issued_before_it(user):
    """A stolen token must not outlive the password: after a change (or a reset by an admin) the
    old access token answers 401 and the old refresh token, even one rotated since, buys nothing."""
    tokens = obtain_tokens(user.username)
    rotated = ok(refresh(tokens["refresh"]))
    user.set_password("a-new-password-9")
    user.save()

    unauthorized(bearer(tokens["access"]).get("/api/me/"))
    unauthorized(bearer(rotated["access"]).get("/api/me/"))
    assert error_message(refresh(rotated["refresh"]), 401)

    fresh = obtain_tokens(user.username, "a-new-password-9")
    assert ok(bearer(fresh["access"]).get("/api/me/"))["id"] == user.pk
    assert ok(bearer(ok(refresh(fresh["refresh"]))["access"]).get("/api/me/"))["id"] == user.pk


def _delete(user):
    user.delete()


def _deactivate(user):
    user.is_active = False
    user.save()


def _change_password(user):
    user.set_password("a-new-password-9")
    user.save()


@pytest.mark.parametrize("change", [_delete, _deactivate, _change_password], ids=["deleted", "inactive", "password"])
def test_tokens_of_a_deleted_or_inactive_owner_or_an_old_password_are_401_everywhere(user, change):
    """Refresh, verify and every authenticated request agree: such a token is invalid (401 JSON),
    never a 500 (refresh of a deleted user's token) nor "valid" (verify)."""
    tokens = obtain_tokens(user.username)
    change(user)

    for name in ("access", "refresh"):
        assert error_message(APIClient().post("/api/auth/token/verify/", {"token": tokens[name]}, format="json"), 401)
    assert error_message(refresh(tokens["refresh"]), 401)
    unauthorized(bearer(tokens["access"]).get("/api/me/"))


# --- logout ------------------------------------------------------------------------------
def test_logout_revokes_the_refresh_token(user):
    tokens = obtain_tokens(user.username)
    client = bearer(tokens["access"])
    response = client.post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert response.content == b""
    jti = RefreshToken(tokens["refresh"], verify=False)["jti"]
    assert BlacklistedToken.objects.filter(token__jti=jti, token__user=user).exists()
    error(refresh(tokens["refresh"]), 401)


def test_logout_needs_credentials(user):
    tokens = obtain_tokens(user.username)
    before = snapshot()
    unauthorized(APIClient().post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json"))
    assert snapshot() == before
    ok(refresh(tokens["refresh"]))  # still usable: nothing was revoked


def test_a_revoked_refresh_token_is_the_same_401_at_refresh_and_at_logout(user):
    """A client handles a dead refresh token one way wherever it sends it: 401 `token_not_valid`."""
    tokens = obtain_tokens(user.username)
    client = bearer(tokens["access"])
    assert client.post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    before = snapshot()
    again = client.post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    refreshed = refresh(tokens["refresh"])
    assert error_codes(again, 401) == error_codes(refreshed, 401) == {None: ["token_not_valid"]}
    assert error_message(again, 401) == error_message(refreshed, 401)
    unauthorized(again)
    assert snapshot() == before


def test_logout_without_a_refresh_token_is_400(auth_client):
    assert set(field_errors(auth_client.post("/api/auth/logout/", {}, format="json"))) == {"refresh"}


# --- /api/me/ ----------------------------------------------------------------------------
def test_me_shows_your_own_account(user, other_user):
    response = bearer(obtain_tokens(user.username)["access"]).get("/api/me/")
    body = ok(response)
    assert body == {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "date_joined": body["date_joined"],
    }
    assert body["date_joined"].endswith("Z")
    assert other_user.email.encode() not in response.content
    assert user.password.encode() not in response.content


def test_me_of_an_account_registered_without_an_email_shows_an_empty_one():
    # Found by Schemathesis: the schema said `format: email` for this field, which "" is not.
    ok(register({"username": "no-email", "password": TEST_PASSWORD}), 201)
    body = ok(bearer(obtain_tokens("no-email")["access"]).get("/api/me/"))
    assert body["email"] == ""


def test_me_is_read_only(auth_client, user):
    response = auth_client.patch("/api/me/", {"username": "renamed", "email": "x@example.com"}, format="json")
    assert response.status_code == 405
    user.refresh_from_db()
    assert user.username != "renamed"


def test_me_needs_credentials(api_client):
    unauthorized(api_client.get("/api/me/"))
