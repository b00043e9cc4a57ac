"""Reads: the querysets behind every endpoint, and with them the query budget.

Each list selector returns rows with everything its serializer needs (author joined,
comment counts annotated), so a page costs the same number of queries whatever its size.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from .models import Comment, Notification, Post, Subscription


def post_list(*, user) -> QuerySet[Post]:
    """Published posts, plus the user's own drafts."""
    visible = Q(published=True)
    if user is not None and user.is_authenticated:
        visible |= Q(author=user)
    return (
        Post.objects.filter(visible)
        .select_related("author")
        .annotate(comment_count=Count("comments"))
        .order_by("-created_at", "-id")
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


def subscriber_ids(*, author_id: int) -> list[int]:
    return list(Subscription.objects.filter(author_id=author_id).values_list("subscriber_id", flat=True))


def user_get(*, user_id: int):
    return get_user_model().objects.filter(pk=user_id).first()
