"""Sign-up, JWT tokens (obtain, refresh, verify, revoke) and your own account."""

import math

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
    TokenVerifySerializer,
)
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenVerifyView

from api.errors import error_response
from api.schema import BAD_REQUEST, unauthorized
from api.throttling import AdminLoginRateThrottle

from . import services, verification
from .serializers import (
    EmailVerifiedSerializer,
    EmailVerifySerializer,
    LogoutSerializer,
    MeUpdateSerializer,
    RegisterSerializer,
    TokenCheckSerializer,
    UserSerializer,
)


@extend_schema(summary="Create an account", tags=["auth"], responses={201: UserSerializer})
@extend_schema_view(post=extend_schema(operation_id="auth_register"))
class RegisterView(GenericAPIView):
    """Create an account; then obtain tokens at /api/auth/token/."""

    serializer_class = RegisterSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_scope = "auth"

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


# The views' serializers are the project's (TOKEN_OBTAIN_SERIALIZER, TOKEN_REFRESH_SERIALIZER):
# simplejwt's shapes, which drf-spectacular documents from simplejwt's classes.
@extend_schema(
    summary="Sign in: obtain an access and a refresh token",
    request=TokenObtainPairSerializer,
    responses={
        200: TokenObtainPairSerializer,
        401: unauthorized("Wrong username or password, or an inactive account."),
    },
)
@extend_schema_view(post=extend_schema(operation_id="auth_sign_in"))
class TokenObtainView(TokenObtainPairView):
    """Exchange a username and password for an access and a refresh token."""

    throttle_scope = "auth"


@extend_schema(
    summary="Refresh: trade a refresh token for a new pair",
    request=TokenRefreshSerializer,
    responses={
        200: TokenRefreshSerializer,
        401: unauthorized(
            "The refresh token is invalid, expired or revoked. A refresh token used a second time "
            "revokes every token of its sign-in."
        ),
    },
)
@extend_schema_view(post=extend_schema(operation_id="auth_refresh"))
class TokenRefreshRotateView(TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token (the old one is revoked).

    Each refresh token works once: of concurrent refreshes with one token, one succeeds. Presenting
    an already used refresh token again is taken for theft: every refresh token of that sign-in
    stops working (sign in again); other sign-ins are untouched."""

    throttle_scope = "auth"


@extend_schema(
    summary="Check a token",
    request=TokenVerifySerializer,
    responses={
        200: OpenApiResponse(
            {"type": "object", "maxProperties": 0}, description="The token is valid; the body is `{}`."
        ),
        401: unauthorized("The token is invalid, expired or revoked."),
    },
)
@extend_schema_view(post=extend_schema(operation_id="auth_verify"))
class TokenCheckView(TokenVerifyView):
    """Check that a token is valid and not revoked."""

    serializer_class = TokenCheckSerializer
    throttle_scope = "auth"


@extend_schema(
    summary="Sign out: revoke a refresh token",
    request=LogoutSerializer,
    responses={
        204: None,
        401: unauthorized(
            "No credentials or an invalid access token; or the refresh token to revoke is invalid, expired "
            "or already revoked (`token_not_valid`, as the refresh endpoint answers it)."
        ),
    },
)
@extend_schema_view(post=extend_schema(operation_id="auth_sign_out"))
class LogoutView(APIView):
    """Revoke a refresh token, and every refresh token of its sign-in, so none can be used again.
    A token that is invalid, expired or already revoked is a 401, as refreshing it would be."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = LogoutSerializer

    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.refresh_token_revoke(refresh=serializer.validated_data["refresh"], user=request.user)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class MeView(GenericAPIView):
    """Your own account."""

    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="Get your account", operation_id="auth_me")
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Change your email address",
        operation_id="auth_me_partial_update",
        request=MeUpdateSerializer,
        responses=UserSerializer,
    )
    def patch(self, request):
        """Change your email address: a verification email goes to the new one, which receives no
        notification email until its link is followed."""
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_email_change(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)


@extend_schema(
    summary="Verify your email address",
    tags=["auth"],
    request=EmailVerifySerializer,
    responses={200: EmailVerifiedSerializer},
)
@extend_schema_view(post=extend_schema(operation_id="auth_email_verify"))
class EmailVerifyView(GenericAPIView):
    """Verify an email address with the token of the link mailed to it. Needs no sign-in (the
    token is the proof) and is idempotent. A tampered, expired or superseded token (the account's
    address changed since) is a 400 under `token`."""

    serializer_class = EmailVerifySerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_scope = "auth"

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = verification.email_verify(token=serializer.validated_data["token"])
        return Response(EmailVerifiedSerializer({"email": user.email, "email_verified": True}).data)


@extend_schema(
    summary="Send the verification email again",
    tags=["auth"],
    request=None,
    responses={204: None, 400: BAD_REQUEST},
)
@extend_schema_view(post=extend_schema(operation_id="auth_email_resend"))
class EmailVerificationResendView(APIView):
    """Mail a new verification link to your address (the old links keep working until they
    expire). An address already verified, or none, is a 400 under `email`. Rate-limited per user
    (THROTTLE_EMAIL_VERIFICATION_RATE)."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "email_verification"

    def post(self, request):
        services.email_verification_resend(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def verify_email_page(request):
    """The page a verification email links to (EMAIL_VERIFICATION_URL's default): GET shows a
    button, and only the POST it sends verifies, so a mail scanner that opens every link of a
    message verifies nothing. No CSRF token: the signed token is the proof, as for the API."""
    token = (request.POST if request.method == "POST" else request.GET).get("token", "")[:1000]
    context = {"token": token, "verified": None, "error": None}
    if request.method == "POST":
        try:
            context["verified"] = verification.email_verify(token=token).email
        except ValidationError as exc:
            context["error"] = exc.detail["token"][0]
    status_code = 400 if context["error"] else 200
    return render(request, "accounts/verify_email.html", context, status=status_code)


def admin_login(request, extra_context=None):
    """The admin's login page, with its sign-in attempts rate-limited per client address: past
    THROTTLE_ADMIN_LOGIN_RATE a JSON 429 with Retry-After, before any password is checked."""
    if request.method == "POST" and settings.THROTTLE_ENABLED:
        throttle = AdminLoginRateThrottle()
        if not throttle.allow_request(request, None):
            wait = math.ceil(throttle.wait() or 1)
            refused = exceptions.Throttled(detail=f"Too many sign-in attempts. Try again in {wait} seconds.")
            return error_response(refused, Retry_After=str(wait))
    return admin.site.login(request, extra_context=extra_context)
