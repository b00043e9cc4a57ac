"""The Celery application, configured from Django settings (the CELERY_* names)."""

import os
import smtplib
from pathlib import Path

from celery import Celery, bootsteps
from celery.signals import setup_logging
from django.conf import settings
from django.db import InterfaceError, OperationalError

from config import limits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Failures a task that sends mail retries: the mail server or the database being briefly
# unreachable (blog/tasks.py and accounts/tasks.py).
TRANSIENT_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OperationalError, InterfaceError)

# The policy of every task that sends mail from an outbox (blog/tasks.py, accounts/tasks.py):
# retried with jittered backoff on transient errors only, acknowledged once done (a worker lost
# mid-task leaves it to another), and bounded by the time limits the platforms' stop grace outlasts.
MAIL_TASK_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": limits.NOTIFY_SOFT_TIME_LIMIT_SECONDS,
    "time_limit": limits.NOTIFY_TIME_LIMIT_SECONDS,
}

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


# Seconds between touches of the heartbeat file; docker-compose.yml's worker healthcheck
# fails once the file is older than 30 s (six missed beats) or missing.
HEARTBEAT_SECONDS = 5.0


class HeartbeatFile(bootsteps.StartStopStep):
    """Touches settings.WORKER_HEARTBEAT_FILE every HEARTBEAT_SECONDS while the worker consumes.

    A step of the consumer, started once it consumes from the broker, from the worker's own
    event loop (a hung loop stops the touches), stopped with it when the broker connection is
    lost or the worker shuts down: the file is removed then, so a healthcheck reading its age
    fails at once, and passes again after a reconnect.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.timer_entry = None

    def start(self, parent):
        self.beat()
        self.timer_entry = parent.timer.call_repeatedly(HEARTBEAT_SECONDS, self.beat)

    def stop(self, parent):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        Path(settings.WORKER_HEARTBEAT_FILE).unlink(missing_ok=True)

    shutdown = stop

    @staticmethod
    def beat():
        Path(settings.WORKER_HEARTBEAT_FILE).touch()


app.steps["consumer"].add(HeartbeatFile)
