from django.urls import path

from . import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh/", views.TokenRefreshRotateView.as_view(), name="auth-token-refresh"),
    path("auth/token/verify/", views.TokenCheckView.as_view(), name="auth-token-verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/email/verify/", views.EmailVerifyView.as_view(), name="auth-email-verify"),
    path("auth/email/resend/", views.EmailVerificationResendView.as_view(), name="auth-email-resend"),
    path("me/", views.MeView.as_view(), name="me"),
]
