"""Following authors: only ever your own subscriptions, one per author, never yourself."""

import pytest

from blog.models import Subscription
from tests.support.contract import (
    SUBSCRIPTION_FIELDS,
    assert_no_private_data,
    error,
    field_errors,
    ok,
    snapshot,
    unauthorized,
)
from tests.support.factories import SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def follow(client, author_id):
    return client.post("/api/subscriptions/", {"author": author_id}, format="json")


def test_follow_an_author_is_201(auth_client, user, other_user):
    response = follow(auth_client, other_user.pk)
    body = ok(response, 201)
    assert set(body) == SUBSCRIPTION_FIELDS
    assert (body["author"], body["author_username"]) == (other_user.pk, other_user.username)
    subscription = Subscription.objects.get(pk=body["id"])
    assert (subscription.subscriber_id, subscription.author_id) == (user.pk, other_user.pk)
    assert_no_private_data(response)


def test_following_twice_is_400(auth_client, other_user):
    ok(follow(auth_client, other_user.pk), 201)
    before = snapshot()
    assert set(field_errors(follow(auth_client, other_user.pk))) == {"author"}
    assert snapshot() == before


def test_following_yourself_is_400(auth_client, user):
    before = snapshot()
    assert set(field_errors(follow(auth_client, user.pk))) == {"author"}
    assert snapshot() == before


def test_following_a_missing_user_is_400(auth_client, other_user):
    before = snapshot()
    assert set(field_errors(follow(auth_client, other_user.pk + 1000))) == {"author"}
    assert snapshot() == before


def test_following_needs_an_author(auth_client):
    assert set(field_errors(auth_client.post("/api/subscriptions/", {}, format="json"))) == {"author"}


def test_two_users_may_follow_the_same_author(auth_client, other_client):
    author = UserFactory()
    ok(follow(auth_client, author.pk), 201)
    ok(follow(other_client, author.pk), 201)
    assert Subscription.objects.filter(author=author).count() == 2


def test_list_shows_only_your_own_subscriptions_newest_first(auth_client, user, other_user):
    first = SubscriptionFactory(subscriber=user)
    second = SubscriptionFactory(subscriber=user)
    SubscriptionFactory(subscriber=other_user)
    SubscriptionFactory(author=user)  # someone following you is not your subscription
    response = auth_client.get("/api/subscriptions/")
    body = ok(response)
    assert set(body) == {"count", "next", "previous", "results"}
    assert [item["id"] for item in body["results"]] == [second.pk, first.pk]
    assert all(set(item) == SUBSCRIPTION_FIELDS for item in body["results"])
    assert_no_private_data(response)


def test_retrieve_your_subscription(auth_client, user):
    subscription = SubscriptionFactory(subscriber=user)
    assert ok(auth_client.get(f"/api/subscriptions/{subscription.pk}/"))["author"] == subscription.author_id


def test_unfollow_is_204(auth_client, user):
    subscription = SubscriptionFactory(subscriber=user)
    response = auth_client.delete(f"/api/subscriptions/{subscription.pk}/")
    assert response.status_code == 204
    assert not Subscription.objects.filter(pk=subscription.pk).exists()
    error(auth_client.delete(f"/api/subscriptions/{subscription.pk}/"), 404)


@pytest.mark.parametrize("method", ["get", "delete"])
def test_someone_elses_subscription_is_404(auth_client, other_user, method):
    theirs = SubscriptionFactory(subscriber=other_user)
    before = snapshot()
    error(getattr(auth_client, method)(f"/api/subscriptions/{theirs.pk}/"), 404)
    assert snapshot() == before


def test_subscriptions_cannot_be_changed_in_place(auth_client, user, other_user):
    subscription = SubscriptionFactory(subscriber=user)
    response = auth_client.patch(f"/api/subscriptions/{subscription.pk}/", {"author": other_user.pk}, format="json")
    assert response.status_code == 405
    subscription.refresh_from_db()
    assert subscription.author_id != other_user.pk


@pytest.mark.parametrize(
    "method,path,payload",
    [
        ("get", "/api/subscriptions/", None),
        ("post", "/api/subscriptions/", {"author": 1}),
        ("get", "/api/subscriptions/{id}/", None),
        ("delete", "/api/subscriptions/{id}/", None),
    ],
)
def test_anonymous_is_401(api_client, user, other_user, method, path, payload):
    subscription = SubscriptionFactory(subscriber=user, author=other_user)
    before = snapshot()
    unauthorized(getattr(api_client, method)(path.format(id=subscription.pk), payload, format="json"))
    assert snapshot() == before
