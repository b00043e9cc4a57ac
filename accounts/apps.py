from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, JWT tokens and your own account. Users are Django's auth.User (with a unique index on
    lower(username)); the app's one model is TokenFamily, the sign-in refresh tokens descend from."""

    name = "accounts"
