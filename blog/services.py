"""Writes and their side effects. Views call these; nothing else changes blog data."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied, ValidationError

from . import selectors
from .models import Comment, Notification, Post, Subscription

logger = logging.getLogger(__name__)


# --- Posts -------------------------------------------------------------------------------
def post_create(*, author, title: str, body: str) -> Post:
    return Post.objects.create(author=author, title=title, body=body)


def post_update(*, post: Post, by, **fields) -> Post:
    _require_owner(post, by)
    for name, value in fields.items():
        setattr(post, name, value)
    post.save(update_fields=[*fields, "updated_at"])
    return post


def post_delete(*, post: Post, by) -> None:
    _require_owner(post, by)
    post.delete()


def post_publish(*, post: Post, by) -> Post:
    """Publish a draft and notify the author's subscribers once the transaction commits.

    The outbox flag is set in the same transaction as the publish, so a broker outage
    cannot lose the notifications: the periodic sweep enqueues whatever is still pending.
    Publishing an already-published post changes nothing.
    """
    _require_owner(post, by)
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        if locked.published:
            return post
        now = timezone.now()
        Post.objects.filter(pk=post.pk).update(
            published=True, published_at=now, notifications_pending=True, updated_at=now
        )
        post.published, post.published_at, post.notifications_pending, post.updated_at = True, now, True, now
        transaction.on_commit(lambda: notifications_enqueue(post_id=post.pk))
    return post


def notifications_enqueue(*, post_id: int) -> bool:
    """Hand the notification task to the broker; on failure the post stays in the outbox."""
    from .tasks import notify_subscribers

    try:
        notify_subscribers.delay(post_id)
    except Exception:  # broker unreachable: the outbox sweep will enqueue it later
        logger.warning("notification enqueue failed for post %s; left pending in the outbox", post_id, exc_info=True)
        return False
    return True


def post_notify_subscribers(*, post_id: int) -> int:
    """Create one notification per subscriber and email each of them once.

    Idempotent: notifications are unique per (recipient, post), and each email is sent
    inside the transaction that marks it sent, on a row no other worker holds, so running
    this again, or twice at once, neither duplicates a notification nor re-sends an email.
    Returns the number of emails sent by this call.
    """
    post = Post.objects.select_related("author").filter(pk=post_id, published=True).first()
    if post is None:  # deleted or never published: nothing to notify
        return 0
    recipients = selectors.subscriber_ids(author_id=post.author_id)
    Notification.objects.bulk_create(
        [Notification(recipient_id=recipient_id, post=post) for recipient_id in recipients],
        ignore_conflicts=True,
    )
    sent = 0
    unsent_ids = list(Notification.objects.filter(post=post, emailed_at__isnull=True).values_list("pk", flat=True))
    for notification_id in unsent_ids:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(skip_locked=True)
                .select_related("recipient")
                .filter(pk=notification_id, emailed_at__isnull=True)
                .first()
            )
            if notification is None:  # sent meanwhile, or being sent by another worker
                continue
            emailed = _send_notification_email(notification=notification, post=post)
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["emailed_at"])
            sent += emailed
    if not Notification.objects.filter(post=post, emailed_at__isnull=True).exists():
        Post.objects.filter(pk=post.pk).update(notifications_pending=False)
    return sent


def _send_notification_email(*, notification: Notification, post: Post) -> bool:
    """True if an email went out; False for a recipient with no address or one refused for good."""
    recipient = notification.recipient
    if not recipient.email:
        return False
    try:
        send_mail(
            # On one line: Django refuses to send a header with a line break, and a title may have one.
            subject=" ".join(f"New post by {post.author.username}: {post.title}".split()),
            message=f"{post.author.username} published “{post.title}”.\n\n{post.body[:500]}",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[recipient.email],
        )
    except smtplib.SMTPRecipientsRefused as exc:
        # A 5xx refusal of the address is final: retried, or swept every minute, the post would
        # never leave the outbox. A 4xx refusal is temporary and goes to the task's retries.
        codes = [code for code, _message in exc.recipients.values()]
        if not all(500 <= code < 600 for code in codes):
            raise
        logger.warning(
            "notification %s: the mail server refused user %s's address for good (%s)",
            notification.pk,
            recipient.pk,
            ", ".join(map(str, codes)),
        )
        return False
    return True


# --- Comments ----------------------------------------------------------------------------
def comment_create(*, post: Post, author, body: str) -> Comment:
    return Comment.objects.create(post=post, author=author, body=body)


def comment_update(*, comment: Comment, by, body: str) -> Comment:
    _require_owner(comment, by)
    comment.body = body
    comment.save(update_fields=["body", "updated_at"])
    return comment


def comment_delete(*, comment: Comment, by) -> None:
    _require_owner(comment, by)
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


def subscription_delete(*, subscription: Subscription, by) -> None:
    if subscription.subscriber_id != by.pk:
        raise PermissionDenied()
    subscription.delete()


def notification_mark_read(*, notification: Notification, by) -> Notification:
    if notification.recipient_id != by.pk:
        raise PermissionDenied()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def _require_owner(obj, user) -> None:
    if obj.author_id != user.pk:
        raise PermissionDenied("You can only change your own content.")
