"""Sign-up, JWT tokens (obtain, refresh, verify, revoke) and your own account."""

import math

from django.conf import settings
from django.contrib import admin
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, status
from rest_framework.generics import GenericAPIView, RetrieveAPIView
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
from api.schema import unauthorized
from api.throttling import AdminLoginRateThrottle

from . import services
from .serializers import LogoutSerializer, RegisterSerializer, TokenCheckSerializer, UserSerializer


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


@extend_schema(summary="Get your account", tags=["auth"])
@extend_schema_view(get=extend_schema(operation_id="auth_me"))
class MeView(RetrieveAPIView):
    """Your own account."""

    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self):
        return self.request.user


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
