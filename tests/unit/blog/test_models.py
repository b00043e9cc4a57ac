"""The database's own guarantees: constraints that hold even for writes that bypass the services."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from blog.models import Comment, Notification, Post, Subscription
from tests.support.factories import CommentFactory, NotificationFactory, PostFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_a_published_post_needs_published_at(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.create(author=user, title="t", body="b", published=True, published_at=None)
    post = PostFactory(author=user, live=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(published_at=None)
    assert Post.objects.get(pk=post.pk).published_at is not None


def test_a_draft_may_have_no_published_at(user):
    post = Post.objects.create(author=user, title="t", body="b")
    assert (post.published, post.published_at) == (False, None)


def test_nobody_subscribes_to_themselves(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(subscriber=user, author=user)
    assert not Subscription.objects.exists()


def test_one_subscription_per_pair(user, other_user):
    Subscription.objects.create(subscriber=user, author=other_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(subscriber=user, author=other_user)
    # The reverse direction is a different subscription.
    Subscription.objects.create(subscriber=other_user, author=user)
    assert Subscription.objects.count() == 2


def test_one_notification_per_recipient_and_post(user):
    notification = NotificationFactory(recipient=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=user, post=notification.post)
    # What redelivered notification tasks rely on: a conflicting bulk insert is skipped, not an error.
    Notification.objects.bulk_create([Notification(recipient=user, post=notification.post)], ignore_conflicts=True)
    assert Notification.objects.filter(recipient=user, post=notification.post).count() == 1


def test_deleting_a_user_deletes_their_content(user, other_user):
    post = PostFactory(author=user, live=True)
    CommentFactory(post=post, author=other_user)
    CommentFactory(author=user)
    SubscriptionFactory(subscriber=other_user, author=user)
    NotificationFactory(recipient=other_user, post=post)
    user.delete()
    assert not Post.objects.filter(author_id=user.pk).exists()
    assert not Comment.objects.filter(post=post).exists() and not Comment.objects.filter(author_id=user.pk).exists()
    assert not Subscription.objects.exists()
    assert not Notification.objects.exists()


def test_default_orders(user):
    now = timezone.now()
    old_post = PostFactory(author=user, created_at=now - timezone.timedelta(days=1))
    new_post = PostFactory(author=user, created_at=now)
    assert list(Post.objects.all()) == [new_post, old_post]  # newest first
    first = CommentFactory(post=new_post, created_at=now - timezone.timedelta(hours=1))
    second = CommentFactory(post=new_post, created_at=now)
    assert list(Comment.objects.all()) == [first, second]  # a conversation reads oldest first
