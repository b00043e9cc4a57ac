"""Account request and response shapes. Writes go through accounts.services."""

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer as SimpleJWTTokenObtainPairSerializer
from rest_framework_simplejwt.serializers import TokenRefreshSerializer as SimpleJWTTokenRefreshSerializer
from rest_framework_simplejwt.serializers import TokenVerifySerializer
from rest_framework_simplejwt.tokens import UntypedToken

from api import serializers as api_serializers
from api.serializers import StrictTypesMixin

User = get_user_model()


class RegisterSerializer(api_serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
    )
    # The column's own limit: longer would be a database error rather than a 400.
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    password = serializers.CharField(write_only=True, min_length=1, max_length=128, style={"input_type": "password"})

    def validate_username(self, value):
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.")
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


def token_owner(token):
    """The active user a validated token belongs to, checked as every authenticated request checks
    it: a deleted or inactive owner, or a password changed since the token was issued
    (CHECK_REVOKE_TOKEN), is a 401 AuthenticationFailed."""
    return JWTAuthentication().get_user(token)


# simplejwt's refresh (rotation, blacklisting), but only for a token whose owner still holds it:
# simplejwt's own checks neither the password (a token would outlive its change) nor that the
# owner exists (a deleted user's token would be a 500). No docstring: it would become the
# schema's description of the pair.
class TokenRefreshSerializer(StrictTypesMixin, SimpleJWTTokenRefreshSerializer):
    def validate(self, attrs):
        token_owner(self.token_class(attrs["refresh"]))
        return super().validate(attrs)


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
        token_owner(UntypedToken(attrs["token"]))
        return data


class LogoutSerializer(api_serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")


# simplejwt's sign-in, refusing a username or password that is not a string. No docstring (as above).
class TokenObtainPairSerializer(StrictTypesMixin, SimpleJWTTokenObtainPairSerializer):
    pass
