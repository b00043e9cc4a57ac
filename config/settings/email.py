"""Outgoing email: EMAIL_URL (the console when unset), and the verification of addresses."""

from config.env import env

from .platform import PLATFORM_HOSTS

# EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS...
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    # consolemail:// (the default): each email becomes one log record (config/mail.py), so that
    # the worker's output stays one JSON object per line; Django's console backend writes the
    # raw message, dozens of plain lines.
    EMAIL_BACKEND = "config.mail.LogEmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Blog <noreply@localhost>")
# Seconds before an unanswering mail server fails the send (a transient error the task
# retries) instead of holding a worker until the task's time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Email verification (accounts/verification.py) ------------------------------------------
# Where the verification email's link leads: `?token=...` is appended. The default is the
# project's own confirmation page (accounts.views.verify_email_page) at the platform's public
# host name, or as scripts/dev serves it; behind your own domain, https://DOMAIN/verify-email/,
# or a page of your front end that POSTs the token to /api/auth/email/verify/.
EMAIL_VERIFICATION_URL = env.http_url(
    "EMAIL_VERIFICATION_URL",
    default=f"https://{PLATFORM_HOSTS[0]}/verify-email/" if PLATFORM_HOSTS else "http://127.0.0.1:8000/verify-email/",
)
# Seconds a verification link stays valid; past it, a 400 that says to ask for a new one.
EMAIL_VERIFICATION_MAX_AGE = env.positive_int("EMAIL_VERIFICATION_MAX_AGE", default=3 * 24 * 60 * 60)
# Who may receive notification email: a function of the user, true for a verified address.
# blog/outbox.py calls it by this name, so the blog imports nothing of the accounts.
NOTIFICATION_EMAIL_CHECK = "accounts.models.email_is_verified"
