"""What accounts adds to Django's auth.User: the sign-in a refresh token descends from, and
whether a user's email address is verified."""

import uuid

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q


class TokenFamily(models.Model):
    """Every refresh token issued by one sign-in and by the rotations that followed it carries
    this row's id (the `family` claim). Refreshing locks the row, so rotations of one family run
    one at a time; revoking it (sign-out, or a rotated token presented again, the sign of a
    stolen copy) ends every refresh token of the family at once, and no other sign-in's."""

    class Reason(models.TextChoices):
        SIGNED_OUT = "signed_out", "Signed out"
        REUSE = "reuse", "A rotated refresh token was used again"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(auto_now_add=True)
    # When the family's newest refresh token expires: past it, the row can go (token_families_flush).
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)

    class Meta:
        verbose_name_plural = "token families"

    def __str__(self):
        return f"{self.user_id}:{self.id}"


class EmailVerification(models.Model):
    """The address a user proved they read, and the outbox of the mail that asks them to.

    An address is verified while `verified_email` is the user's current `email`: changing the
    address unverifies it without a write here, and a link sent to the old one no longer matches.
    A user without a row (every account older than this table) is unverified.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="email_verification"
    )
    verified_email = models.EmailField(max_length=254, blank=True, default="")
    verified_at = models.DateTimeField(null=True, blank=True)
    # Outbox flag: set in the transaction that registers the address (or changes it, or asks
    # again), cleared once the verification mail is out (accounts/verification.py).
    mail_pending = models.BooleanField(default=False)
    mail_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The outbox sweep reads only pending rows.
            models.Index(fields=["user"], condition=Q(mail_pending=True), name="email_verification_pending_idx"),
        ]

    def __str__(self):
        return f"Email verification of user {self.user_id}"


def email_is_verified(user) -> bool:
    """True if the user's current address is the one they verified (one query, unless joined)."""
    if not user.email:
        return False
    try:
        verification = user.email_verification
    except ObjectDoesNotExist:
        return False
    return verification.verified_email == user.email and verification.verified_at is not None
