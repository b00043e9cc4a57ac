"""The HTTP layer: parse, authorize (blog/permissions.py), call a service or selector, serialize. No business rules."""

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import OrderingFilter
from api.mixins import ServiceCreateMixin, ServiceUpdateMixin
from api.pagination import BoundedCountPagination

from . import selectors, services
from .filters import PostFilter, PostSearchFilter
from .permissions import IsOwnerOrReadOnly
from .serializers import (
    CommentSerializer,
    MarkedReadSerializer,
    NotificationSerializer,
    PostSerializer,
    SubscriptionSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List posts"),
    create=extend_schema(summary="Create a draft"),
    retrieve=extend_schema(summary="Get a post"),
    update=extend_schema(summary="Replace a post"),
    partial_update=extend_schema(summary="Change some fields of a post"),
    destroy=extend_schema(summary="Delete a post"),
)
class PostViewSet(ServiceCreateMixin, ServiceUpdateMixin, viewsets.ModelViewSet):
    """Published posts for everyone, plus your own drafts. Only the author may change a post."""

    lookup_value_regex = r"\d+"
    serializer_class = PostSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]
    filter_backends = [DjangoFilterBackend, PostSearchFilter, OrderingFilter]
    filterset_class = PostFilter
    search_fields = ["title", "body"]
    # rank: relevance to `search` (0 without one), blog/filters.py.
    ordering_fields = ["created_at", "published_at", "title", "rank"]
    pagination_class = BoundedCountPagination
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.post_list(user=self.request.user)

    def create_object(self, validated_data):
        post = services.post_create(author=self.request.user, **validated_data)
        post.comment_count = 0  # what the list's annotation would say of a new post
        return post

    def update_object(self, post, validated_data):
        return services.post_update(post=post, **validated_data)

    def perform_destroy(self, instance):
        services.post_delete(post=instance)

    @extend_schema(summary="Publish a draft", request=None, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish your draft; subscribers are notified once it is committed."""
        post = services.post_publish(post=self.get_object())
        return Response(self.get_serializer(post).data)


@extend_schema(
    tags=["comments"],
    parameters=[OpenApiParameter("post_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The post's id.")],
)
@extend_schema_view(
    list=extend_schema(summary="List a post's comments"),
    create=extend_schema(summary="Comment on a post"),
    retrieve=extend_schema(summary="Get a comment"),
    update=extend_schema(summary="Replace a comment"),
    partial_update=extend_schema(summary="Change some fields of a comment"),
    destroy=extend_schema(summary="Delete a comment"),
)
class CommentViewSet(ServiceCreateMixin, ServiceUpdateMixin, viewsets.ModelViewSet):
    """Comments on a post you can see. Only a comment's author may edit or delete it."""

    lookup_value_regex = r"\d+"
    serializer_class = CommentSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]
    filter_backends = []

    def get_post(self):
        if not hasattr(self, "_post"):
            self._post = get_object_or_404(selectors.post_list(user=self.request.user), pk=self.kwargs["post_pk"])
        return self._post

    def get_queryset(self):
        return selectors.comment_list(post=self.get_post())

    def create_object(self, validated_data):
        return services.comment_create(post=self.get_post(), author=self.request.user, **validated_data)

    def update_object(self, comment, validated_data):
        # A PATCH may leave the body out (it is the only field): the comment keeps its own.
        return services.comment_update(comment=comment, body=validated_data.get("body", comment.body))

    def perform_destroy(self, instance):
        services.comment_delete(comment=instance)


@extend_schema_view(
    list=extend_schema(summary="List the authors you follow"),
    create=extend_schema(summary="Follow an author"),
    retrieve=extend_schema(summary="Get a subscription"),
    destroy=extend_schema(summary="Unfollow an author"),
)
class SubscriptionViewSet(
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Authors you follow; you are notified when they publish."""

    lookup_value_regex = r"\d+"
    serializer_class = SubscriptionSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return selectors.subscription_list(user=self.request.user)

    def create_object(self, validated_data):
        return services.subscription_create(subscriber=self.request.user, author=validated_data["author"])

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance)


@extend_schema_view(
    list=extend_schema(summary="List your notifications"),
    retrieve=extend_schema(summary="Get a notification"),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications of new posts by authors you follow."""

    lookup_value_regex = r"\d+"
    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(summary="Mark a notification read", request=None, responses=NotificationSerializer)
    # The view's serializer_class, not None: OPTIONS describes the POST with it (None was a 500).
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(summary="Mark all your notifications read", request=None, responses=MarkedReadSerializer)
    @action(detail=False, methods=["post"], url_path="read-all", serializer_class=MarkedReadSerializer)
    def read_all(self, request):
        """Mark all your notifications read."""
        count = services.notification_mark_all_read(user=request.user)
        return Response(MarkedReadSerializer({"marked_read": count}).data)
