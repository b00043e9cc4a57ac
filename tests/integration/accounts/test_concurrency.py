"""Races on Postgres, each request in its own thread with its own database connection: the
database, not a check before the write, decides who wins."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from accounts.models import TokenFamily
from tests.support.contract import field_errors, obtain_tokens, ok
from tests.support.external import postgres_url
from tests.support.factories import TEST_PASSWORD, UserFactory

User = get_user_model()

# Committed rows, so every thread's connection sees them.
pytestmark = pytest.mark.django_db(transaction=True)


def at_once(count, request):
    """request(n) in `count` threads released together; their responses, in thread order."""
    barrier = threading.Barrier(count)
    responses = [None] * count

    def run(n):
        try:
            barrier.wait(timeout=30)
            responses[n] = request(n)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(response is not None for response in responses), responses
    return responses


def refresh(token):
    return APIClient().post("/api/auth/token/refresh/", {"refresh": token}, format="json")


def test_of_concurrent_refreshes_of_one_token_exactly_one_succeeds_and_only_its_token_works():
    postgres_url()
    user = UserFactory()
    tokens = obtain_tokens(user.username)

    responses = at_once(6, lambda n: refresh(tokens["refresh"]))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 401, 401, 401, 401, 401], statuses
    (winner,) = (response.json() for response in responses if response.status_code == 200)
    # The losers were a race, not a theft: the winner's token works, and it alone.
    assert ok(refresh(winner["refresh"]))["refresh"]
    assert not TokenFamily.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.parametrize("names", [["racer", "RACER", "Racer", "rAcEr", "\uff32acer", "racer"]])
def test_of_concurrent_registrations_of_one_name_in_any_case_exactly_one_is_201(names):
    postgres_url()
    payload = {"password": TEST_PASSWORD}

    responses = at_once(
        len(names), lambda n: APIClient().post("/api/auth/register/", {**payload, "username": names[n]}, format="json")
    )

    created = [response for response in responses if response.status_code == 201]
    assert len(created) == 1, [(response.status_code, response.content) for response in responses]
    for response in responses:
        if response.status_code != 201:
            assert set(field_errors(response)) == {"username"}
    assert User.objects.count() == 1


def test_a_registration_racing_an_uncommitted_one_meets_the_index_and_is_400():
    """Deterministic: a case variant is being inserted but not committed, so the registration's
    own check sees nothing; its insert then waits on the unique index and, once the first commits,
    fails: a 400 under username, never a 500 nor a second account."""
    postgres_url()
    responses = []

    def register():
        try:
            responses.append(
                APIClient().post("/api/auth/register/", {"username": "NAME", "password": TEST_PASSWORD}, format="json")
            )
        finally:
            connections.close_all()

    with transaction.atomic():
        User.objects.create(username="name")
        thread = threading.Thread(target=register)
        thread.start()
        # Until the registration's insert is waiting for this transaction's row lock.
        with connection.cursor() as cursor:
            for _ in range(600):
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # else frozen for the transaction
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'INSERT%%'"
                )
                if cursor.fetchone()[0]:
                    break
                thread.join(timeout=0.05)
                assert thread.is_alive(), "the registration finished without waiting on the index"
    thread.join(timeout=30)
    (response,) = responses
    assert set(field_errors(response)) == {"username"}
    assert list(User.objects.values_list("username", flat=True)) == ["name"]
