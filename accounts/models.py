"""The one table accounts adds to Django's auth.User: the sign-in a refresh token descends from."""

import uuid

from django.conf import settings
from django.db import models


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
