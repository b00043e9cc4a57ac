"""Email verification: a signed link proves a user reads the address they gave, and only a
verified address receives notification mail (blog/outbox.py).

The link carries a token signed with django.core.signing's TimestampSigner (SECRET_KEY, salt
TOKEN_SALT) over the user's id and a keyed digest of the address it was sent to: it expires after
EMAIL_VERIFICATION_MAX_AGE seconds, cannot be forged or altered, and stops working once the
account's address changes. Verifying is a POST, never a GET: mail scanners that open every link
of a message must not be able to verify an address nobody read.

The verification mail goes out as notifications do, through an outbox:

1. Registration, an address change (`PATCH /api/me/`) and a resend set
   `EmailVerification.mail_pending` in their own transaction (`verification_request`) and, once
   it commits, enqueue the send task. A broker outage leaves the row pending.
2. The send task (`accounts.tasks.send_verification_email`) runs `verification_mail_send`: on a
   row no other worker holds, the mail goes out in the transaction that clears the flag, so a
   redelivered task sends nothing twice.
3. Beat runs the sweep (`verification_sweep`) every OUTBOX_SWEEP_SECONDS: whatever is still
   pending is enqueued again.
"""

import logging
import smtplib
from urllib.parse import urlencode

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework.exceptions import ValidationError

from .models import EmailVerification, email_is_verified

logger = logging.getLogger(__name__)

# The send task's registered name (accounts/tasks.py registers it under this one).
SEND_TASK = "accounts.tasks.send_verification_email"
# Tokens signed for this purpose only: no other signed value of the site passes for one.
TOKEN_SALT = "accounts.email-verification"

INVALID = "This verification link is invalid."
EXPIRED = "This verification link has expired: ask for a new one."
OLD_ADDRESS = "This verification link was sent to an address the account no longer has: ask for a new one."


# --- Tokens ----------------------------------------------------------------------------------
def token_make(*, user) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign_object({"user": user.pk, "email": address_digest(user.email)})


def address_digest(email: str) -> str:
    """The address as a token names it: a keyed digest, so a link (in a proxy's access log, say)
    does not carry the address itself, readable in its unencrypted claims."""
    return salted_hmac(TOKEN_SALT, email, algorithm="sha256").hexdigest()[:32]


def verification_link(*, user) -> str:
    return f"{settings.EMAIL_VERIFICATION_URL}?{urlencode({'token': token_make(user=user)})}"


def email_verify(*, token: str):
    """Mark the address a token was sent to verified, and return its user. Idempotent: a valid
    link used again changes nothing. A tampered, expired or superseded token is a 400 under `token`."""
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    try:
        claims = signer.unsign_object(token, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ValidationError({"token": [EXPIRED]}) from exc
    except signing.BadSignature as exc:
        raise ValidationError({"token": [INVALID]}) from exc
    user = get_user_model().objects.filter(pk=claims.get("user"), is_active=True).first()
    if user is None:  # deleted or deactivated since
        raise ValidationError({"token": [INVALID]})
    if not user.email or not constant_time_compare(address_digest(user.email), str(claims.get("email"))):
        raise ValidationError({"token": [OLD_ADDRESS]})
    with transaction.atomic():
        verification, _ = EmailVerification.objects.select_for_update().get_or_create(user=user)
        if verification.verified_email != user.email or verification.verified_at is None:
            verification.verified_email, verification.verified_at = user.email, timezone.now()
            verification.save(update_fields=["verified_email", "verified_at"])
    user.email_verification = verification
    return user


# --- The outbox ------------------------------------------------------------------------------
def verification_request(*, user) -> None:
    """Ask for a verification mail to the user's current address, sent once the caller's
    transaction commits (call it inside the transaction that sets the address)."""
    now = timezone.now()
    verification, _ = EmailVerification.objects.update_or_create(
        user=user, defaults={"mail_pending": bool(user.email), "mail_requested_at": now}
    )
    user.email_verification = verification
    if user.email:
        transaction.on_commit(lambda: verification_enqueue(user_id=user.pk))


def verification_enqueue(*, user_id: int) -> bool:
    """Hand the send task to the broker; on failure the row stays pending for the sweep."""
    try:
        current_app.tasks[SEND_TASK].delay(user_id)
    except Exception:  # broker unreachable: the sweep will enqueue it later
        logger.warning("verification mail enqueue failed for user %s; left pending", user_id, exc_info=True)
        return False
    return True


def verification_sweep(*, grace_seconds: int | None = None) -> int:
    """Enqueue again every verification mail still pending past `grace_seconds` (default
    OUTBOX_SWEEP_SECONDS); returns how many."""
    if grace_seconds is None:
        grace_seconds = settings.OUTBOX_SWEEP_SECONDS
    cutoff = timezone.now() - timezone.timedelta(seconds=grace_seconds)
    pending = EmailVerification.objects.filter(mail_pending=True, mail_requested_at__lte=cutoff).values_list(
        "user_id", flat=True
    )
    enqueued = sum(verification_enqueue(user_id=user_id) for user_id in pending)
    if enqueued:
        logger.info("verification sweep enqueued %s mails", enqueued)
    return enqueued


def verification_mail_send(*, user_id: int) -> int:
    """Send the pending verification mail of a user, once; returns the number of mails sent (0 or 1)."""
    with transaction.atomic():
        verification = (
            EmailVerification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(user_id=user_id, mail_pending=True)
            .first()
        )
        if verification is None:  # sent meanwhile, being sent by another worker, or never asked
            return 0
        user = verification.user
        sent = 0
        if user.is_active and user.email and not email_is_verified(user):
            sent = _send(user=user)
        verification.mail_pending = False
        verification.save(update_fields=["mail_pending"])
    return sent


def _send(*, user) -> int:
    link = verification_link(user=user)
    hours = settings.EMAIL_VERIFICATION_MAX_AGE // 3600
    validity = f"{hours} hours" if hours >= 2 else f"{settings.EMAIL_VERIFICATION_MAX_AGE // 60} minutes"
    try:
        send_mail(
            subject="Confirm your email address",
            message=(
                f"Hello {user.username},\n\n"
                f"To receive email about new posts of the authors you follow, confirm that this address "
                f"is yours:\n\n{link}\n\nThe link works for {validity}. If you did not sign up, ignore this email."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
    except smtplib.SMTPRecipientsRefused as exc:
        # As for notifications: a 5xx refusal is final (the user can correct the address and ask
        # again), a 4xx one goes to the task's retries.
        codes = [code for code, _message in exc.recipients.values()]
        if not all(500 <= code < 600 for code in codes):
            raise
        logger.warning("verification mail: the mail server refused user %s's address for good", user.pk)
        return 0
    return 1
