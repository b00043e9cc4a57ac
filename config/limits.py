"""Sizes and time limits that files outside Python must agree with, in one place.

The settings, gunicorn's config and the Celery tasks take these values from here; nginx.conf and
the deployment manifests repeat them, and tests/deploy/test_limits.py fails when one disagrees.
No Django import: gunicorn's master reads this module without loading Django.
"""

# Largest request body, in bytes: Django's DATA_UPLOAD_MAX_MEMORY_SIZE, nginx's
# client_max_body_size ("1m") and the 413 answer both give (the API takes JSON only).
REQUEST_BODY_MAX_BYTES = 1024 * 1024

# Seconds gunicorn lets a request run before it kills the worker (WEB_TIMEOUT's default); nginx's
# proxy_read_timeout is longer, so gunicorn answers first.
WEB_TIMEOUT_SECONDS = 30
# Seconds a client has to send one request, its headers and body, counted from when a gunicorn
# thread takes the connection (config/gunicorn_worker.py). Each worker has few threads: a client
# trickling its headers or body a byte at a time would otherwise hold one for as long as it
# likes, and a handful of them would leave none for anyone else. Past it, a connection still
# sending headers is closed, and one still sending its body is answered 408. A 1 MiB body
# (REQUEST_BODY_MAX_BYTES) fits at about 50 KiB/s; nginx in front buffers whole requests.
REQUEST_READ_TIMEOUT_SECONDS = 20
# Seconds a stopping gunicorn gives the requests in flight (graceful_timeout); the web process's
# stop grace on every platform is at least this.
WEB_GRACEFUL_TIMEOUT_SECONDS = 30

# The notification task's time limits, in seconds: soft (SoftTimeLimitExceeded, which it can
# handle) and hard (the pool process is killed).
NOTIFY_SOFT_TIME_LIMIT_SECONDS = 60
NOTIFY_TIME_LIMIT_SECONDS = 90
# Every other task's (Celery's task_soft_time_limit and task_time_limit).
TASK_SOFT_TIME_LIMIT_SECONDS = 90
TASK_TIME_LIMIT_SECONDS = 120

# Seconds a platform waits between SIGTERM and SIGKILL when it stops a worker. Celery's warm
# shutdown lets running tasks finish: longer than any task's hard limit, so none is killed midway.
WORKER_SHUTDOWN_GRACE_SECONDS = 130
