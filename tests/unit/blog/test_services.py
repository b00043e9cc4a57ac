"""Services, called directly: the rules every write obeys whichever view (or task, or command) calls it."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from blog import services
from blog.models import Comment, Notification, Post, Subscription
from tests.support.factories import (
    NotificationFactory,
    SubscriptionFactory,
)

User = get_user_model()

pytestmark = pytest.mark.django_db


# --- posts -------------------------------------------------------------------------------
def test_post_create_makes_a_draft(user):
    post = services.post_create(author=user, title="T", body="B")
    post.refresh_from_db()
    assert (post.author_id, post.published, post.published_at) == (user.pk, False, None)
    assert not post.notifications_pending


def test_post_update_by_its_author(post, user):
    services.post_update(post=post, title="New title")
    post.refresh_from_db()
    assert post.title == "New title"


def test_post_delete_by_its_author(post, user):
    services.post_delete(post=post)
    assert not Post.objects.filter(pk=post.pk).exists()


def test_post_publish_sets_the_outbox_and_enqueues_after_commit(post, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.post_publish(post=post)
    stored = Post.objects.get(pk=post.pk)
    assert stored.published
    assert stored.published_at is not None
    assert stored.published_at == post.published_at
    assert stored.notifications_pending  # cleared only once subscribers are notified
    assert len(callbacks) == 1  # the notification task goes to the broker only after the commit


def test_post_publish_notifies_subscribers_once_committed(post, user, django_capture_on_commit_callbacks):
    followers = [SubscriptionFactory(author=user).subscriber for _ in range(2)]
    SubscriptionFactory()  # follows someone else
    with django_capture_on_commit_callbacks(execute=True):
        services.post_publish(post=post)
    assert set(Notification.objects.filter(post=post).values_list("recipient_id", flat=True)) == {
        f.pk for f in followers
    }
    assert not Post.objects.get(pk=post.pk).notifications_pending


def test_post_publish_is_idempotent(post, user, django_capture_on_commit_callbacks):
    services.post_publish(post=post)
    first = Post.objects.get(pk=post.pk).published_at
    # A second publish, even from a stale copy of the draft, changes nothing and notifies no one again.
    stale = Post.objects.get(pk=post.pk)
    stale.published, stale.published_at = False, None
    with django_capture_on_commit_callbacks() as callbacks:
        services.post_publish(post=stale)
    assert callbacks == []
    assert Post.objects.get(pk=post.pk).published_at == first


# --- comments ----------------------------------------------------------------------------
def test_comment_create_update_delete_by_its_author(post, other_user):
    comment = services.comment_create(post=post, author=other_user, body="first")
    services.comment_update(comment=comment, body="second")
    assert Comment.objects.get(pk=comment.pk).body == "second"
    services.comment_delete(comment=comment)
    assert not Comment.objects.filter(pk=comment.pk).exists()


# --- subscriptions and notifications -----------------------------------------------------
def test_subscription_create(user, other_user):
    subscription = services.subscription_create(subscriber=user, author=other_user)
    assert (subscription.subscriber_id, subscription.author_id) == (user.pk, other_user.pk)


def test_subscription_to_yourself_is_refused(user):
    with pytest.raises(ValidationError) as caught:
        services.subscription_create(subscriber=user, author=user)
    assert set(caught.value.detail) == {"author"}
    assert not Subscription.objects.exists()


def test_duplicate_subscription_is_a_validation_error(user, other_user):
    services.subscription_create(subscriber=user, author=other_user)
    with pytest.raises(ValidationError) as caught:
        services.subscription_create(subscriber=user, author=other_user)
    assert set(caught.value.detail) == {"author"}
    assert Subscription.objects.count() == 1  # and the connection survived the IntegrityError


def test_subscription_delete(user):
    subscription = SubscriptionFactory(subscriber=user)
    services.subscription_delete(subscription=subscription)
    assert not Subscription.objects.filter(pk=subscription.pk).exists()


def test_notification_mark_read_keeps_the_first_time(user):
    notification = NotificationFactory(recipient=user)
    first = services.notification_mark_read(notification=notification).read_at
    assert first is not None
    again = services.notification_mark_read(notification=Notification.objects.get(pk=notification.pk))
    assert again.read_at == first == Notification.objects.get(pk=notification.pk).read_at


def test_notification_mark_all_read_counts_only_unread_own(user, other_user):
    NotificationFactory.create_batch(2, recipient=user)
    NotificationFactory(recipient=user, read_at=timezone.now())
    NotificationFactory(recipient=other_user)
    assert services.notification_mark_all_read(user=user) == 2
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other_user, read_at__isnull=True).count() == 1
