"""Account writes: registration, refresh-token rotation and signing out. Views call these."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from .models import TokenFamily
from .tokens import FAMILY_CLAIM, UncheckedRefreshToken, token_owner

USERNAME_TAKEN = "A user with that username already exists."


# --- usernames ---------------------------------------------------------------------------
def normalize_username(username: str) -> str:
    """NFKC, as Django's AbstractBaseUser.normalize_username: a Kelvin sign (U+212A) becomes K, a
    fullwidth p (U+FF50) becomes p. Every check and every save uses this form."""
    return get_user_model().normalize_username(username)


def users_named(username: str):
    """The account whose username equals `username` whatever the case, after NFKC. The comparison
    is the database's lower(), the expression its unique index (auth_user_username_lower_uniq,
    accounts/migrations/0001) is built on, so the check and the constraint always agree."""
    name = Value(normalize_username(username), output_field=CharField())
    return get_user_model()._default_manager.alias(username_lower=Lower("username")).filter(username_lower=Lower(name))


def user_register(*, username: str, password: str, email: str = ""):
    User = get_user_model()
    user = User(username=normalize_username(username), email=email)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:  # Django's own error type would be a 500 in a DRF view
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration took the name (in any case) first
        raise ValidationError({"username": [USERNAME_TAKEN]}) from exc
    return user


# --- refresh tokens ----------------------------------------------------------------------
# A refresh token is used once: refreshing it rotates it (a new one, the old one blacklisted) and
# signing out blacklists it. Each use runs in a transaction holding the token's OutstandingToken
# row and its family's row (SELECT ... FOR UPDATE), so of concurrent uses of one token exactly one
# wins; the others wait, then find it blacklisted.
#
# A token found already used is a stolen copy in someone's hands, or a client's duplicate
# request. Past JWT_REFRESH_REUSE_GRACE_SECONDS after its use it is treated as theft: the whole
# family is revoked, the newest token of the sign-in included, whoever holds it. Within the grace,
# it is refused alone (the losers of a race, a retried request), so the winner's token lives.
REVOKED = "This sign-in was revoked: sign in again."
REUSED = "This refresh token was already used: every token of this sign-in is now revoked. Sign in again."
USED = "Token is blacklisted"
UNKNOWN = "Token is invalid or expired"


def _decode(refresh: str):
    """The token, its signature, expiry and type checked (TokenError otherwise), and its owner:
    exists, active, same password (AuthenticationFailed otherwise)."""
    token = UncheckedRefreshToken(refresh)
    return token, token_owner(token)


def _family_locked(token) -> TokenFamily | None:
    family_id = token.get(FAMILY_CLAIM)
    if not family_id:
        return None  # issued before families existed: its first rotation starts one
    return TokenFamily.objects.select_for_update().filter(pk=family_id).first()


def _family_revoke(family: TokenFamily, reason: str) -> None:
    family.revoked_at = timezone.now()
    family.revoked_reason = reason
    family.save(update_fields=["revoked_at", "revoked_reason"])


def _take(token) -> tuple[OutstandingToken | None, TokenFamily | None, str | None]:
    """Lock the token's rows and decide; call inside a transaction. Returns (outstanding, family,
    refusal): refusal None means the token is unused and may be used now. A reuse past the grace
    revokes the family here, in the caller's transaction, which must commit before refusing."""
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=token[api_settings.JTI_CLAIM]).first()
    family = _family_locked(token)
    if outstanding is None or (token.get(FAMILY_CLAIM) and family is None):
        return outstanding, family, UNKNOWN  # flushed after expiry, or its user deleted since
    if family is not None and family.revoked_at is not None:
        return outstanding, family, REVOKED
    used = BlacklistedToken.objects.filter(token=outstanding).first()
    if used is None:
        return outstanding, family, None
    grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS)
    if family is not None and timezone.now() - used.blacklisted_at >= grace:
        _family_revoke(family, TokenFamily.Reason.REUSE)
        return outstanding, family, REUSED
    return outstanding, family, USED


def refresh_token_rotate(*, refresh: str) -> dict[str, str]:
    """A new access and refresh token for `refresh`, which is blacklisted. Raises TokenError
    (the view's 401) for an invalid, expired, used or revoked token, AuthenticationFailed (401)
    when its owner is gone, inactive or changed the password."""
    token, user = _decode(refresh)
    with transaction.atomic():
        outstanding, family, refusal = _take(token)
        if refusal is None:
            BlacklistedToken.objects.create(token=outstanding)
            if family is None:
                family = TokenFamily(user=user)
            token.set_jti()
            token.set_exp()
            token.set_iat()
            token[FAMILY_CLAIM] = str(family.pk)
            family.expires_at = datetime_from_epoch(token["exp"])
            family.save()
            token.outstand()
            return {"access": str(token.access_token), "refresh": str(token)}
    raise TokenError(refusal)  # after the commit: a revocation for reuse stays


def refresh_token_revoke(*, refresh: str, user) -> None:
    """Sign out: blacklist `user`'s refresh token and end its family. Another user's token is a
    400 under `refresh`; an invalid, expired, used or revoked one raises TokenError, a 401 like
    refreshing it would be."""
    token, owner = _decode(refresh)
    if owner.pk != user.pk:
        raise ValidationError({"refresh": ["This token belongs to another user."]})
    with transaction.atomic():
        outstanding, family, refusal = _take(token)
        if refusal is None:
            BlacklistedToken.objects.create(token=outstanding)
            if family is not None:
                _family_revoke(family, TokenFamily.Reason.SIGNED_OUT)
            return
    raise TokenError(refusal)


def refresh_token_family_revoked(token) -> bool:
    """Whether a refresh token's family was revoked (sign-out, or reuse of a rotated token)."""
    family_id = token.get(FAMILY_CLAIM)
    return bool(family_id) and not TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True).exists()


def token_families_revoke(families) -> int:
    """End the given sign-ins (a queryset of TokenFamily), as signing out would; returns how many."""
    return families.update(revoked_at=timezone.now(), revoked_reason=TokenFamily.Reason.SIGNED_OUT)


def token_families_flush() -> int:
    """Delete the families whose newest refresh token has expired; returns how many."""
    return TokenFamily.objects.filter(expires_at__lt=timezone.now()).delete()[0]
