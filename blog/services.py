"""Writes and their side effects. Views call these; nothing else changes blog data.

Services do not authorize: the caller has (see blog/permissions.py). They enforce what holds
whoever writes: validity, uniqueness, idempotence, the outbox.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from . import outbox, read_cache
from .models import Comment, Notification, Post, Subscription


# --- Posts -------------------------------------------------------------------------------
def post_create(*, author, title: str, body: str) -> Post:
    return Post.objects.create(author=author, title=title, body=body)


def post_update(*, post: Post, **fields) -> Post:
    for name, value in fields.items():
        setattr(post, name, value)
    post.save(update_fields=[*fields, "updated_at"])
    return post


def post_delete(*, post: Post) -> None:
    post.delete()


def post_publish(*, post: Post) -> Post:
    """Publish a draft and notify the author's subscribers once the transaction commits.

    The outbox flag is set in the same transaction as the publish, so a broker outage
    cannot lose the notifications: the periodic sweep enqueues whatever is still pending
    (blog/outbox.py). Publishing an already-published post changes nothing.
    """
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        if locked.published:
            return post
        now = timezone.now()
        Post.objects.filter(pk=post.pk).update(
            published=True, published_at=now, notifications_pending=True, updated_at=now
        )
        post.published, post.published_at, post.notifications_pending, post.updated_at = True, now, True, now
        # A queryset update sends no post_save: the read cache is told here.
        read_cache.invalidate()
        transaction.on_commit(lambda: outbox.notifications_enqueue(post_id=post.pk))
    return post


# --- Comments ----------------------------------------------------------------------------
def comment_create(*, post: Post, author, body: str) -> Comment:
    return Comment.objects.create(post=post, author=author, body=body)


def comment_update(*, comment: Comment, body: str) -> Comment:
    comment.body = body
    comment.save(update_fields=["body", "updated_at"])
    return comment


def comment_delete(*, comment: Comment) -> None:
    comment.delete()


# --- Subscriptions and notifications -----------------------------------------------------
def subscription_create(*, subscriber, author) -> Subscription:
    if subscriber.pk == author.pk:
        raise ValidationError({"author": ["You cannot follow yourself."]})
    try:
        with transaction.atomic():
            return Subscription.objects.create(subscriber=subscriber, author=author)
    except IntegrityError as exc:
        raise ValidationError({"author": ["You already follow this author."]}) from exc


def subscription_delete(*, subscription: Subscription) -> None:
    subscription.delete()


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
