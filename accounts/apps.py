from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, JWT tokens and your own account. Users are Django's auth.User (with a unique index on
    lower(username)); the app's models are TokenFamily, the sign-in refresh tokens descend from, and
    EmailVerification, whether a user's address is verified."""

    name = "accounts"

    def ready(self) -> None:
        # Registers the tasks in every Django process: the web process enqueues the verification
        # mail by name (accounts/verification.py), and only a worker autodiscovers tasks by itself.
        from . import tasks  # noqa: F401
