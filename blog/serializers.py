"""Request and response shapes. Writes go through services, never through serializer.save()."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from .models import Comment, Notification, Post, Subscription

User = get_user_model()


class PostSerializer(serializers.ModelSerializer):
    author = serializers.IntegerField(source="author_id", read_only=True, help_text="The author's user id.")
    author_username = serializers.CharField(source="author.username", read_only=True)
    comment_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "author",
            "author_username",
            "title",
            "body",
            "published",
            "published_at",
            "comment_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["published", "published_at", "created_at", "updated_at"]
        extra_kwargs = {"title": {"trim_whitespace": True}}

    def to_representation(self, post):
        # The hot read path, written out: building and walking DRF's field objects for every
        # row costs more than the query. The output is the generic one, field for field
        # (tests/blog/test_performance.py compares them); the fields above still define
        # validation and the OpenAPI schema.
        tz = timezone.get_current_timezone()
        return {
            "id": post.id,
            "author": post.author_id,
            "author_username": post.author.username,
            "title": post.title,
            "body": post.body,
            "published": post.published,
            "published_at": _iso_datetime(post.published_at, tz),
            "comment_count": post.comment_count,
            "created_at": _iso_datetime(post.created_at, tz),
            "updated_at": _iso_datetime(post.updated_at, tz),
        }


def _iso_datetime(value, tz):
    """What serializers.DateTimeField writes: ISO 8601 in the current time zone, "Z" for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.IntegerField(source="author_id", read_only=True, help_text="The author's user id.")
    author_username = serializers.CharField(source="author.username", read_only=True)
    post = serializers.IntegerField(source="post_id", read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "post", "author", "author_username", "body", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SubscriptionSerializer(serializers.ModelSerializer):
    author = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text="User id of the author to follow."
    )
    author_username = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "author", "author_username", "created_at"]
        read_only_fields = ["created_at"]


class NotificationSerializer(serializers.ModelSerializer):
    post_title = serializers.CharField(source="post.title", read_only=True)
    post_author = serializers.IntegerField(source="post.author_id", read_only=True)
    post_author_username = serializers.CharField(source="post.author.username", read_only=True)
    post = serializers.IntegerField(source="post_id", read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "post", "post_title", "post_author", "post_author_username", "created_at", "read", "read_at"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text="How many notifications were marked read.")
