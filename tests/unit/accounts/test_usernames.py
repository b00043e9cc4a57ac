"""Usernames: NFKC-normalized before any check and before saving, unique whatever the case (the
database's own index, accounts/migrations/0001), and sign-in by any case of the normalized form.
Concurrent registrations and the index on each database: tests/integration/accounts/."""

import importlib
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from tests.support.contract import field_errors, obtain_tokens, ok, snapshot
from tests.support.factories import TEST_PASSWORD, UserFactory

User = get_user_model()

pytestmark = pytest.mark.django_db

KELVIN = "p\u212avsaqtfa"  # K is U+212A KELVIN SIGN
FULLWIDTH = "\uff50\uff4b\uff56\uff53\uff41\uff51\uff54\uff46\uff41"  # fullwidth p k v s a q t f a


def register(username):
    return APIClient().post("/api/auth/register/", {"username": username, "password": TEST_PASSWORD}, format="json")


@pytest.mark.parametrize(
    "look_alike",
    [KELVIN, FULLWIDTH, "PKVSAQTFA", "pKvsaqtfa", "\uff30KVSAQTFA"],
    ids=["kelvin", "fullwidth", "upper", "mixed", "fullwidth-upper"],
)
def test_a_look_alike_or_case_variant_of_a_taken_username_is_400_under_username(look_alike):
    UserFactory(username="pkvsaqtfa")
    before = snapshot()
    assert set(field_errors(register(look_alike))) == {"username"}
    assert snapshot() == before


def test_registration_saves_the_nfkc_form():
    body = ok(register(FULLWIDTH), 201)
    assert body["username"] == "pkvsaqtfa"
    assert User.objects.get(pk=body["id"]).username == "pkvsaqtfa"
    assert ok(register(KELVIN.replace("p", "q", 1)), 201)["username"] == "qKvsaqtfa"


@pytest.mark.parametrize("typed", ["pkvsaqtfa", "PKVSAQTFA", KELVIN, FULLWIDTH])
def test_sign_in_accepts_any_case_of_the_normalized_username(typed):
    user = UserFactory(username="pkvsaqtfa")
    assert (
        ok(APIClient().get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {obtain_tokens(typed)['access']}"))["id"] == user.pk
    )


def test_an_account_named_before_normalization_signs_in_with_its_name_as_stored():
    legacy = User.objects.create_user(username="x" + FULLWIDTH, password=TEST_PASSWORD)  # create_user normalizes
    User.objects.filter(pk=legacy.pk).update(username="x" + FULLWIDTH)  # as an older release stored it
    tokens = obtain_tokens("x" + FULLWIDTH)
    assert ok(APIClient().get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}"))["id"] == legacy.pk


def test_the_database_refuses_a_case_duplicate_itself():
    """The serializer's check is not the guard: the unique index on lower(username) is."""
    User.objects.create(username="Dup")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="dUP")
    assert list(User.objects.values_list("username", flat=True)) == ["Dup"]


def test_the_migration_refuses_existing_case_duplicates_naming_them_and_the_fix():
    migration = importlib.import_module("accounts.migrations.0001_username_lower_unique")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {migration.INDEX}")  # undone with the test's transaction
    first, second = User.objects.create(username="Twin"), User.objects.create(username="tWIN")
    with pytest.raises(RuntimeError) as refused:
        migration.refuse_case_duplicates(None, SimpleNamespace(connection=connection))
    message = str(refused.value)
    assert f"'Twin' (id {first.pk})" in message and f"'tWIN' (id {second.pk})" in message
    assert "Rename" in message and "migrate" in message
    second.delete()
    migration.refuse_case_duplicates(None, SimpleNamespace(connection=connection))  # nothing left to refuse
