"""The database's own guarantees: constraints that hold even for writes that bypass the services."""

import factory
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from blog.models import Comment, Notification, Post, Subscription
from tests.support.factories import CommentFactory, NotificationFactory, PostFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


class TutorialPostFactory(factory.django.DjangoModelFactory):
    """The seed tutorial's factory, as written there: published=True and no published_at."""

    class Meta:
        model = Post

    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Post {n}")
    body = "Some text."
    published = True


def test_a_factory_that_sets_published_gets_a_published_at():
    before = timezone.now()
    post = TutorialPostFactory()
    stored = Post.objects.get(pk=post.pk)
    assert stored.published and before <= stored.published_at <= timezone.now()
    assert Post.objects.published().filter(pk=post.pk).exists()


def test_orm_code_publishing_a_post_fills_published_at(user):
    created = Post.objects.create(author=user, title="t", body="b", published=True, published_at=None)
    assert Post.objects.get(pk=created.pk).published_at is not None
    draft = PostFactory(author=user)
    draft.published = True
    draft.save(update_fields=["published"])  # as an admin action or a data migration would
    assert Post.objects.get(pk=draft.pk).published_at is not None
    # A date the code gives is kept.
    given = timezone.now() - timezone.timedelta(days=3)
    kept = Post.objects.create(author=user, title="t", body="b", published=True, published_at=given)
    assert Post.objects.get(pk=kept.pk).published_at == given


def test_a_published_post_needs_published_at(user):
    # The constraint stays for writes that bypass save().
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.bulk_create([Post(author=user, title="t", body="b", published=True, published_at=None)])
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
