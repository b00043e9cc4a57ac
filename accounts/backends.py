"""Sign-in by username, as usernames are unique: NFKC-normalized and whatever the case."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .services import users_named


class UsernameBackend(ModelBackend):
    """Django's ModelBackend, but a fullwidth (U+FF50...) or upper-case `PKVSAQTFA` signs in as
    `pkvsaqtfa`: the username is normalized (NFKC) and matched whatever its case, the same comparison as the database's
    unique index, so at most one account can match."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None or not isinstance(username, str):
            return None
        # An account named before names were normalized (a stored fullwidth name) still signs in
        # with its name exactly as stored.
        user = users_named(username).first() or User._default_manager.filter(username=username).first()
        if user is None:
            # Hash anyway, so an unknown username takes as long as a wrong password (ModelBackend's own).
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
