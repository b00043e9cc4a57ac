"""Notifications of new posts: only your own, marked read one by one or all at once."""

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blog.models import Notification
from tests.support.contract import NOTIFICATION_FIELDS, assert_no_private_data, error, ok, snapshot, unauthorized
from tests.support.factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(user):
    return NotificationFactory(recipient=user)


def test_list_shows_only_your_own_newest_first(auth_client, user, other_user):
    now = timezone.now()
    older = NotificationFactory(recipient=user, created_at=now - timezone.timedelta(hours=1))
    newer = NotificationFactory(recipient=user, created_at=now)
    NotificationFactory(recipient=other_user)
    response = auth_client.get("/api/notifications/")
    body = ok(response)
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    item = body["results"][0]
    assert set(item) == NOTIFICATION_FIELDS
    assert item == {
        "id": newer.pk,
        "post": newer.post_id,
        "post_title": newer.post.title,
        "post_author": newer.post.author_id,
        "post_author_username": newer.post.author.username,
        "created_at": item["created_at"],
        "read": False,
        "read_at": None,
    }
    assert parse_datetime(item["created_at"]) == newer.created_at
    assert_no_private_data(response)


def test_mark_read_sets_read_and_read_at(auth_client, mine):
    body = ok(auth_client.post(f"/api/notifications/{mine.pk}/read/"))
    assert set(body) == NOTIFICATION_FIELDS
    assert body["read"] is True
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert parse_datetime(body["read_at"]) == mine.read_at
    assert ok(auth_client.get(f"/api/notifications/{mine.pk}/"))["read"] is True


def test_mark_read_is_idempotent(auth_client, mine):
    first = ok(auth_client.post(f"/api/notifications/{mine.pk}/read/"))
    second = ok(auth_client.post(f"/api/notifications/{mine.pk}/read/"))
    assert second["read_at"] == first["read_at"]  # the first reading time is kept


def test_read_all_marks_your_unread_ones_and_returns_the_count(auth_client, user, other_user):
    unread = NotificationFactory.create_batch(3, recipient=user)
    already = NotificationFactory(recipient=user, read_at=timezone.now() - timezone.timedelta(days=1))
    theirs = NotificationFactory(recipient=other_user)
    assert ok(auth_client.post("/api/notifications/read-all/")) == {"marked_read": 3}
    assert all(n.read_at is not None for n in Notification.objects.filter(pk__in=[n.pk for n in unread]))
    kept = Notification.objects.get(pk=already.pk).read_at
    assert kept == already.read_at  # an earlier reading time is not overwritten
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert ok(auth_client.post("/api/notifications/read-all/")) == {"marked_read": 0}


@pytest.mark.parametrize("method,suffix", [("get", ""), ("post", "read/")])
def test_someone_elses_notification_is_404(auth_client, other_user, method, suffix):
    theirs = NotificationFactory(recipient=other_user)
    before = snapshot()
    error(getattr(auth_client, method)(f"/api/notifications/{theirs.pk}/{suffix}"), 404)
    assert snapshot() == before


def test_notifications_cannot_be_created_or_deleted_through_the_api(auth_client, mine):
    before = snapshot()
    assert auth_client.post("/api/notifications/", {"post": mine.post_id}, format="json").status_code == 405
    assert auth_client.delete(f"/api/notifications/{mine.pk}/").status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/notifications/"),
        ("get", "/api/notifications/{id}/"),
        ("post", "/api/notifications/{id}/read/"),
        ("post", "/api/notifications/read-all/"),
    ],
)
def test_anonymous_is_401(api_client, mine, method, path):
    before = snapshot()
    unauthorized(getattr(api_client, method)(path.format(id=mine.pk)))
    assert snapshot() == before


@pytest.mark.parametrize("suffix", ["", "{id}/", "{id}/read/", "read-all/"])
def test_options_describes_every_notification_url(auth_client, mine, suffix):
    # Found by Schemathesis: OPTIONS on the mark-read action was a 500 (no serializer to describe).
    body = ok(auth_client.options("/api/notifications/" + suffix.format(id=mine.pk)))
    assert body["name"]
