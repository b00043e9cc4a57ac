from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.include_format_suffixes = False
router.register("posts", views.PostViewSet, basename="post")
router.register(r"posts/(?P<post_pk>\d+)/comments", views.CommentViewSet, basename="post-comment")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh/", views.TokenRefreshRotateView.as_view(), name="auth-token-refresh"),
    path("auth/token/verify/", views.TokenCheckView.as_view(), name="auth-token-verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    *router.urls,
]
