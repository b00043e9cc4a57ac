"""Error tracking: Sentry, started here when SENTRY_DSN is set, in every Django and Celery process."""

import re

from django.core.exceptions import ImproperlyConfigured

from config.env import DEBUG, env

from .platform import PLATFORM_RELEASE

SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.fraction("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
# Events are tagged with the commit being run, from the platform when not given.
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="") or PLATFORM_RELEASE or None
if SENTRY_RELEASE and re.search(r"[/\\\s]", SENTRY_RELEASE):
    raise ImproperlyConfigured("SENTRY_RELEASE must not contain slashes or whitespace: Sentry refuses such releases.")

if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn

    try:
        sentry_sdk.init(
            dsn=SENTRY_DSN,
            environment=SENTRY_ENVIRONMENT,
            release=SENTRY_RELEASE,
            traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
            send_default_pii=False,
            integrations=[DjangoIntegration(), CeleryIntegration()],
        )
    except BadDsn as exc:
        raise ImproperlyConfigured(
            f"SENTRY_DSN is not a Sentry DSN ({exc}); copy it from the project's Client Keys page, "
            "e.g. https://PUBLIC_KEY@o0.ingest.sentry.io/PROJECT_ID."
        ) from None
