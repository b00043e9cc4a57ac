from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, JWT tokens and your own account: Django's auth.User, and whether its email is verified."""

    name = "accounts"
