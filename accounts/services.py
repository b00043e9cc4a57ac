"""Account writes: registration and signing out. Views call these."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken


def user_register(*, username: str, password: str, email: str = ""):
    User = get_user_model()
    user = User(username=username, email=email)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:  # Django's own error type would be a 500 in a DRF view
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration took the name first
        raise ValidationError({"username": ["A user with that username already exists."]}) from exc
    return user


def refresh_token_revoke(*, refresh: str, user) -> None:
    """Blacklist `user`'s refresh token. An invalid, expired or already revoked one is a 401
    `token_not_valid`, as the refresh endpoint answers it; another user's is a 400 under `refresh`."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from exc
    if str(token.get("user_id")) != str(user.pk):
        raise ValidationError({"refresh": ["This token belongs to another user."]})
    token.blacklist()
