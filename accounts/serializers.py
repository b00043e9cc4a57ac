"""Account request and response shapes. Writes go through accounts.services."""

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer as SimpleJWTTokenObtainPairSerializer
from rest_framework_simplejwt.serializers import TokenRefreshSerializer as SimpleJWTTokenRefreshSerializer
from rest_framework_simplejwt.serializers import TokenVerifySerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import UntypedToken

from api import serializers as api_serializers
from api.serializers import StrictTypesMixin

from . import services
from .tokens import RefreshToken, token_owner

User = get_user_model()


class UsernameField(serializers.RegexField):
    """A username in its NFKC form (accounts.services.normalize_username) before any check: the
    pattern, the length and uniqueness are all checked on the form that is saved."""

    def to_internal_value(self, data):
        return services.normalize_username(super().to_internal_value(data))


class RegisterSerializer(api_serializers.Serializer):
    username = UsernameField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
    )
    # The column's own limit: longer would be a database error rather than a 400.
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    password = serializers.CharField(write_only=True, min_length=1, max_length=128, style={"input_type": "password"})

    def validate_username(self, value):
        # Case-insensitive, as the database's unique index on lower(username) is; a registration
        # racing this check past it meets the index instead (accounts.services.user_register).
        if services.users_named(value).exists():
            raise serializers.ValidationError(services.USERNAME_TAKEN)
        return value


class UserSerializer(api_serializers.ModelSerializer):
    """The requesting user's own account: the only place an email is shown."""

    # Optional at registration: an empty string for an account without one, which the schema
    # must allow (a bare `format: email` refuses "").
    email = serializers.EmailField(read_only=True, allow_blank=True, max_length=254, label="Email address")

    class Meta:
        model = User
        fields = ["id", "username", "email", "date_joined"]
        read_only_fields = fields


# simplejwt's sign-in, issuing the project's refresh token: each sign-in starts a token family;
# a username or password that is not a string is a 400 (api/serializers.py).
# No docstring: it would become the schema's description of the pair.
class TokenObtainPairSerializer(StrictTypesMixin, SimpleJWTTokenObtainPairSerializer):
    token_class = RefreshToken


# simplejwt's refresh shape, rotated by accounts.services.refresh_token_rotate: atomically (one of
# concurrent refreshes of a token wins), a reused token revokes its family, and only for a token
# whose owner still holds it (exists, active, same password). No docstring, as above.
class TokenRefreshSerializer(StrictTypesMixin, SimpleJWTTokenRefreshSerializer):
    token_class = RefreshToken

    def validate(self, attrs):
        return services.refresh_token_rotate(refresh=attrs["refresh"])


class TokenCheckSerializer(StrictTypesMixin, TokenVerifySerializer):
    """simplejwt's verify answers a revoked (blacklisted) token with a 400 validation error; it is
    an invalid token like an expired or forged one, so it gets their 401. So does the token of a
    deleted or inactive user, or one issued before a password change."""

    def validate(self, attrs):
        try:
            data = super().validate(attrs)
        except serializers.ValidationError as exc:  # raised only for a blacklisted token
            raise TokenError(str(exc.detail[0])) from exc
        # Valid only if a request with it would be served: its owner exists, is active and has
        # not changed the password since (simplejwt's own verify checks the signature alone).
        token = UntypedToken(attrs["token"])
        token_owner(token)
        # A refresh token of a revoked family (sign-out, or a reused rotated token) would be
        # refused by refresh: invalid. An access token is served until it expires: valid.
        if token.get(api_settings.TOKEN_TYPE_CLAIM) == "refresh" and services.refresh_token_family_revoked(token):
            raise TokenError(services.REVOKED)
        return data


class LogoutSerializer(api_serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")
