"""The Celery application, configured from Django settings (the CELERY_* names)."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def keep_django_logging(**kwargs) -> None:
    """Leave logging to Django: settings.LOGGING, with LOG_LEVEL, as in the web process.

    With no receiver for this signal, `celery worker` and `celery beat` set the root logger
    to their own --loglevel (WARNING unless given), which would hide every INFO line whatever
    LOG_LEVEL says. Django's setup, which Celery runs before the first task, applies LOGGING.
    """
