from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, JWT tokens and your own account. No models of its own: Django's auth.User."""

    name = "accounts"
