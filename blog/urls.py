from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.include_format_suffixes = False
router.register("posts", views.PostViewSet, basename="post")
router.register(r"posts/(?P<post_pk>\d+)/comments", views.CommentViewSet, basename="post-comment")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
