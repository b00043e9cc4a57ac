"""Account writes: registration, the email address and its verification, signing out. Views call these."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from . import verification
from .models import email_is_verified


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
            # The verification mail leaves once the account is committed (the outbox).
            verification.verification_request(user=user)
    except IntegrityError as exc:  # a concurrent registration took the name first
        raise ValidationError({"username": ["A user with that username already exists."]}) from exc
    return user


def user_email_change(*, user, email: str | None = None):
    """Change the user's address; a new one is unverified until its own link is followed, and
    its verification mail is sent. No address, or the same one again, changes nothing."""
    if email is None or email == user.email:
        return user
    with transaction.atomic():
        user.email = email
        user.save(update_fields=["email"])
        verification.verification_request(user=user)
    return user


def email_verification_resend(*, user) -> None:
    """Send the verification mail again; an address already verified, or none, is a 400 under `email`."""
    if not user.email:
        raise ValidationError({"email": ["Your account has no email address: set one first."]})
    if email_is_verified(user):
        raise ValidationError({"email": ["Your email address is already verified."]})
    with transaction.atomic():
        verification.verification_request(user=user)


def refresh_token_revoke(*, refresh: str, user) -> None:
    """Blacklist `user`'s refresh token; another user's, or an invalid one, is a 400 under `refresh`."""
    try:
        token = RefreshToken(refresh)
        if str(token.get("user_id")) != str(user.pk):
            raise ValidationError({"refresh": ["This token belongs to another user."]})
        token.blacklist()
    except TokenError as exc:
        raise ValidationError({"refresh": [str(exc)]}) from exc
