"""The blog's data: posts, their comments, who follows whom, and notifications."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class PostQuerySet(models.QuerySet):
    """Who may read which post, written once: every read of posts starts here."""

    # The one definition of "published"; the public list's partial index uses the same condition.
    PUBLISHED = Q(published=True)

    def published(self):
        return self.filter(self.PUBLISHED)

    def visible_to(self, user):
        """Published posts, plus the user's own drafts (none for an anonymous user or None)."""
        if user is None or not user.is_authenticated:
            return self.published()
        return self.filter(self.PUBLISHED | Q(author=user))


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=100_000)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    # Outbox flag: set in the publish transaction, cleared once every subscriber is notified.
    notifications_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The public list and its count: published posts, newest first, in the list's exact
            # order, so drafts (a writer's many) are never read past and the page needs no sort.
            models.Index(fields=["-created_at", "-id"], condition=PostQuerySet.PUBLISHED, name="post_public_list_idx"),
            models.Index(fields=["author", "-created_at"], name="post_author_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="post_created_idx"),
            # `ordering=-published_at` (api.filters.OrderingFilter: nulls last, then the default
            # order as tie-breaker): published posts newest first, read in order, drafts after them.
            # Created on Postgres only (migration 0004): SQLite refuses NULLS LAST in an index.
            models.Index(
                F("published_at").desc(nulls_last=True),
                F("created_at").desc(),
                F("id").desc(),
                name="post_published_order_idx",
            ),
            models.Index(fields=["title"], name="post_title_idx"),
            # The outbox sweep reads only pending rows.
            models.Index(fields=["id"], condition=Q(notifications_pending=True), name="post_outbox_pending_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(published=False) | Q(published_at__isnull=False),
                name="post_published_has_published_at",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self._date_if_published() and update_fields is not None and "published_at" not in update_fields:
            kwargs["update_fields"] = {*update_fields, "published_at"}
        super().save(*args, **kwargs)

    def clean(self):
        # Model forms (the admin) validate the constraint before save(): date the post first.
        self._date_if_published()

    def _date_if_published(self) -> bool:
        """A post published without a date (ORM code, an admin form or action, a test factory)
        gets one, so the Meta constraint never turns into an error for them."""
        if self.published and self.published_at is None:
            self.published_at = timezone.now()
            return True
        return False


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["post", "created_at"], name="comment_post_created_idx")]

    def __str__(self):
        return f"Comment {self.pk} on {self.post_id}"


class Subscription(models.Model):
    """`subscriber` follows `author` and is notified of the author's new posts."""

    subscriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscribers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "author"], name="subscription_unique_pair"),
            models.CheckConstraint(condition=~Q(subscriber=models.F("author")), name="subscription_not_self"),
        ]

    def __str__(self):
        return f"{self.subscriber_id} follows {self.author_id}"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # When the email went out; a redelivered task skips recipients already emailed.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One notification per recipient and post: what makes redelivery harmless.
            models.UniqueConstraint(fields=["recipient", "post"], name="notification_unique_recipient_post"),
        ]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx")]

    def __str__(self):
        return f"Notification {self.pk} for {self.recipient_id}"
