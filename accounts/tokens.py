"""The project's refresh token: simplejwt's, plus the family (sign-in) it descends from."""

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken as SimpleJWTRefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from .models import TokenFamily

# The claim naming a refresh token's family. Access tokens copy it (simplejwt copies every claim
# of the refresh token they come from) but nothing checks it there: see docs/security.md.
FAMILY_CLAIM = "family"


def token_owner(token):
    """The active user a validated token belongs to, checked as every authenticated request checks
    it: a deleted or inactive owner, or a password changed since the token was issued
    (CHECK_REVOKE_TOKEN), is a 401 AuthenticationFailed."""
    return JWTAuthentication().get_user(token)


class RefreshToken(SimpleJWTRefreshToken):
    """A sign-in's refresh token: for_user starts a new family (TokenFamily) and names it in the
    token; rotations (accounts.services.refresh_token_rotate) keep the claim."""

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        family = TokenFamily.objects.create(user=user, expires_at=datetime_from_epoch(token["exp"]))
        token[FAMILY_CLAIM] = str(family.pk)
        # simplejwt recorded the token (OutstandingToken) before the claim was added: keep the
        # stored copy equal to the one handed out.
        token.outstand_record().update(token=str(token))
        return token

    def outstand_record(self):
        from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

        return OutstandingToken.objects.filter(jti=self[api_settings.JTI_CLAIM])


class UncheckedRefreshToken(RefreshToken):
    """Signature, expiry and type checked, but not the blacklist: the rotation and sign-out
    services check it themselves, under the token's row lock, where a used token is told apart."""

    def check_blacklist(self):
        pass
