"""Request and response shapes. Writes go through services, never through serializer.save()."""

from operator import attrgetter

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from api import serializers as api_serializers

from .models import Comment, Notification, Post, Subscription

User = get_user_model()


class PostSerializer(api_serializers.ModelSerializer):
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
        # The hot read path: building and walking DRF's field objects for every row costs more
        # than the query. This writes the fields declared above, read once per class, with the
        # generic output field for field (tests/unit/blog/test_performance.py compares the two).
        tz = timezone.get_current_timezone()
        return {name: write(read(post), tz) for name, read, write in self._representation_plan()}

    def _representation_plan(self):
        cls = type(self)
        if "_plan" not in cls.__dict__:
            cls._plan = [
                (name, *_reader_and_writer(field)) for name, field in self.fields.items() if not field.write_only
            ]
        return cls._plan


# Fields whose model value is already what DRF would write (an int, a str, a bool).
_AS_IS = (serializers.IntegerField, serializers.CharField, serializers.BooleanField)


def _reader_and_writer(field):
    """How to read a field's value from the object, and write it as DRF's field would."""
    big_as_string = getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    if field.source != "*" and (
        type(field) in _AS_IS or (type(field) is serializers.BigIntegerField and not big_as_string)
    ):
        return attrgetter(field.source), _as_is
    iso = getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
    if field.source != "*" and type(field) is serializers.DateTimeField and iso:
        return attrgetter(field.source), _iso_datetime
    raise TypeError(f"{field.field_name}: the fast representation writes int, str, bool and ISO date-time fields only")


def _as_is(value, tz):
    return value


def _iso_datetime(value, tz):
    """What serializers.DateTimeField writes: ISO 8601 in the current time zone, "Z" for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class CommentSerializer(api_serializers.ModelSerializer):
    author = serializers.IntegerField(source="author_id", read_only=True, help_text="The author's user id.")
    author_username = serializers.CharField(source="author.username", read_only=True)
    post = serializers.IntegerField(source="post_id", read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "post", "author", "author_username", "body", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SubscriptionSerializer(api_serializers.ModelSerializer):
    author = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text="User id of the author to follow."
    )
    author_username = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "author", "author_username", "created_at"]
        read_only_fields = ["created_at"]


class NotificationSerializer(api_serializers.ModelSerializer):
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


class MarkedReadSerializer(api_serializers.Serializer):
    marked_read = serializers.IntegerField(help_text="How many notifications were marked read.")
