"""Celery: the broker, how tasks run, and beat's schedule (the CELERY_* names config/celery.py reads)."""

from config import limits
from config.env import env

from .cache import REDIS_URL

# With a host name: a bare "memory://" makes kombu warn on every publish that it has none.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# No result backend: a task's effect is in the database and nobody reads its return value. With
# one, every publish would also subscribe to the result in Redis, retrying for about 20 s when
# Redis is down, and a publish during an outage would hang instead of falling back to the outbox.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Without a broker, tasks run in-process so the embedded mode needs no services.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A stopping worker waits for its running tasks up to these (the platforms' stop grace is longer).
CELERY_TASK_TIME_LIMIT = limits.TASK_TIME_LIMIT_SECONDS
CELERY_TASK_SOFT_TIME_LIMIT = limits.TASK_SOFT_TIME_LIMIT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish must not hang while the broker is down: give up quickly, the outbox sweep retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Unacknowledged tasks come back after this many seconds if their worker died.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_CONCURRENCY = env.positive_int("CELERY_CONCURRENCY", default=2)
# Keep Django's LOGGING (JSON lines on stdout) in worker and beat processes too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Beat ----------------------------------------------------------------------------------
# How often beat re-enqueues posts still in the notifications outbox (a publish made while the
# broker was down); a post waits at least this long after its publish before the sweep takes it.
OUTBOX_SWEEP_SECONDS = env.positive_int("OUTBOX_SWEEP_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = {
    "notifications-outbox-sweep": {
        "task": "blog.tasks.sweep_pending_notifications",
        "schedule": float(OUTBOX_SWEEP_SECONDS),
    },
    "flush-expired-jwt-tokens": {
        "task": "accounts.tasks.flush_expired_tokens",
        "schedule": 24 * 60 * 60.0,
    },
}
# Beat's schedule state; a writable path for the image's non-root user.
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="/tmp/celerybeat-schedule")  # noqa: S108
# The worker touches this file every few seconds while it consumes from the broker
# (config/celery.py); docker-compose.yml's healthcheck reads its age, which costs nothing,
# where `celery inspect ping` costs seconds of CPU per probe.
WORKER_HEARTBEAT_FILE = env.str("WORKER_HEARTBEAT_FILE", default="/tmp/celery-worker-heartbeat")  # noqa: S108
