"""The notifications outbox: how a publish reaches every subscriber, even through a broker outage.

1. `services.post_publish` sets `Post.notifications_pending` in the publish's own transaction
   and, once it commits, calls `notifications_enqueue`.
2. `notifications_enqueue` hands the notify task to the broker. If the broker is unreachable the
   publish still succeeds: the post just stays pending.
3. The notify task (`tasks.notify_subscribers`) runs `post_notify_subscribers`: one notification
   per subscriber (whoever followed the author when the post was published, however late the
   task runs), one email to each whose address is verified (accounts/verification.py), then
   the flag is cleared. Running it twice is harmless.
4. Beat runs the sweep task every OUTBOX_SWEEP_SECONDS: `notifications_sweep` enqueues again
   whatever is still pending (a lost enqueue, a task that gave up).

The tasks module calls into this one; this one names the notify task (NOTIFY_TASK) instead of
importing it, so the two do not import each other.
"""

import logging
import smtplib

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from . import selectors
from .models import Notification, Post

logger = logging.getLogger(__name__)

# The notify task's registered name (blog/tasks.py registers it under this one).
NOTIFY_TASK = "blog.tasks.notify_subscribers"


def notifications_enqueue(*, post_id: int) -> bool:
    """Hand the notification task to the broker; on failure the post stays in the outbox."""
    try:
        current_app.tasks[NOTIFY_TASK].delay(post_id)
    except Exception:  # broker unreachable: the outbox sweep will enqueue it later
        logger.warning("notification enqueue failed for post %s; left pending in the outbox", post_id, exc_info=True)
        return False
    return True


def notifications_sweep(*, grace_seconds: int | None = None) -> int:
    """Enqueue again every published post whose notifications are still pending; returns how many.

    Posts published within `grace_seconds` (default: the sweep interval, OUTBOX_SWEEP_SECONDS)
    are left to their own on-commit enqueue.
    """
    if grace_seconds is None:
        grace_seconds = settings.OUTBOX_SWEEP_SECONDS
    cutoff = timezone.now() - timezone.timedelta(seconds=grace_seconds)
    pending = (
        Post.objects.published()
        .filter(notifications_pending=True, published_at__lte=cutoff)
        .values_list("pk", flat=True)
    )
    enqueued = sum(notifications_enqueue(post_id=post_id) for post_id in pending)
    if enqueued:
        logger.info("outbox sweep enqueued %s posts", enqueued)
    return enqueued


def post_notify_subscribers(*, post_id: int) -> int:
    """Create one notification per subscriber and email each of them once.

    Idempotent: notifications are unique per (recipient, post), and each email is sent
    inside the transaction that marks it sent, on a row no other worker holds, so running
    this again, or twice at once, neither duplicates a notification nor re-sends an email.
    Returns the number of emails sent by this call.
    """
    post = Post.objects.published().select_related("author").filter(pk=post_id).first()
    if post is None:  # deleted or never published: nothing to notify
        return 0
    # Those who followed when the post was published: when the task runs (seconds later, or after
    # a broker outage) does not change who hears of it.
    recipients = selectors.subscriber_ids(author_id=post.author_id, followed_by=post.published_at)
    Notification.objects.bulk_create(
        [Notification(recipient_id=recipient_id, post=post) for recipient_id in recipients],
        ignore_conflicts=True,
    )
    sent = 0
    unsent_ids = list(Notification.objects.filter(post=post, emailed_at__isnull=True).values_list("pk", flat=True))
    for notification_id in unsent_ids:
        with transaction.atomic():
            notification = (
                # Locks the notification only: the recipient's verification row may be missing. The
                # row is joined here for NOTIFICATION_EMAIL_CHECK, so the check costs no query.
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient", "recipient__email_verification")
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
    """True if an email went out; False for a recipient with no verified address (they have the
    notification in the API all the same), or one refused for good."""
    recipient = notification.recipient
    # Anyone can register any address: only one its owner proved they read is mailed.
    if not import_string(settings.NOTIFICATION_EMAIL_CHECK)(recipient):
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
