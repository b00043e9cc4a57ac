"""Reads: the querysets behind every endpoint, and with them the query budget.

Each list selector returns rows with everything its serializer needs (author joined,
comment counts annotated), so a page costs the same number of queries whatever its size.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Comment, Notification, Post, Subscription


def post_list(*, user) -> QuerySet[Post]:
    """Published posts, plus the user's own drafts."""
    return (
        Post.objects.visible_to(user)
        .select_related("author")
        .only(*POST_COLUMNS, "author__username")
        .annotate(comment_count=COMMENT_COUNT)
        .order_by("-created_at", "-id")
    )


# Of the author, a post needs only the username: no password hash, no dates to parse.
POST_COLUMNS = [field.name for field in Post._meta.concrete_fields]
# A correlated subquery, not Count("comments"): it runs only for the rows of the page (an
# index lookup each), where a JOIN + GROUP BY aggregates every comment of every matching
# post before the LIMIT; and the pagination COUNT(*) drops it entirely. Built once: each
# annotate() resolves a copy.
COMMENT_COUNT = Coalesce(
    Subquery(Comment.objects.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("pk")).values("n")),
    0,
    output_field=IntegerField(),
)


def comment_list(*, post: Post) -> QuerySet[Comment]:
    return Comment.objects.filter(post=post).select_related("author").order_by("created_at", "id")


def subscription_list(*, user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(subscriber=user).select_related("author").order_by("-created_at", "-id")


def notification_list(*, user) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=user)
        .select_related("post", "post__author")
        .order_by("-created_at", "-id")
    )


def subscriber_ids(*, author_id: int, followed_by: datetime | None = None) -> list[int]:
    """Who follows the author; with `followed_by`, only those who already did at that moment."""
    subscriptions = Subscription.objects.filter(author_id=author_id)
    if followed_by is not None:
        subscriptions = subscriptions.filter(created_at__lte=followed_by)
    return list(subscriptions.values_list("subscriber_id", flat=True))


def public_authors() -> QuerySet:
    """The accounts anyone may follow: active users with at least one published post, which the
    post list already shows to everyone. Any other id (no such user, never published, inactive)
    is not one, so following it reveals nothing about the account."""
    return get_user_model().objects.filter(
        Exists(Post.objects.published().filter(author=OuterRef("pk"))), is_active=True
    )
