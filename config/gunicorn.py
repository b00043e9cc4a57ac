"""gunicorn configuration for scripts/web, read by gunicorn's master.

Values come from the environment through config/env.py and from config/limits.py only: Django's
settings are loaded by the workers (config.wsgi), never by the master, which would otherwise start
Celery and Sentry in a process that serves nothing.
"""

from config import limits
from config.env import (
    FORWARDED_ALLOW_IPS,
    LOG_JSON,
    LOG_LEVEL,
    PORT,
    WEB_CONCURRENCY,
    WEB_MAX_REQUESTS,
    WEB_THREADS,
    WEB_TIMEOUT,
)
from config.logging import stdout_config

bind = f"0.0.0.0:{PORT}"
workers = WEB_CONCURRENCY
threads = WEB_THREADS
# Threaded even with one thread: it stops listening at once on SIGTERM (config/gunicorn_worker.py).
worker_class = "config.gunicorn_worker.DrainingThreadWorker"
# Workers are not recycled unless WEB_MAX_REQUESTS says so (config/env.py says why); when they
# are, the jitter spreads the restarts over half the count, so the workers do not restart together.
max_requests = WEB_MAX_REQUESTS
max_requests_jitter = WEB_MAX_REQUESTS // 2
timeout = WEB_TIMEOUT
# gunicorn's largest: the same 8 KiB as nginx's request line (large_client_header_buffers), so
# a long query string nginx passes on is not refused behind it.
limit_request_line = 8190
graceful_timeout = limits.WEB_GRACEFUL_TIMEOUT_SECONDS
keepalive = 5
forwarded_allow_ips = FORWARDED_ALLOW_IPS
# No header may set the WSGI SCRIPT_NAME or PATH_INFO (gunicorn takes both from a trusted peer by
# default): no proxy in front sets them, and a client's `SCRIPT_NAME: /zzz` made every request a
# 500. With none listed, header_map "drop" discards such headers (names with "_") from anyone.
forwarder_headers = ""
header_map = "drop"
# Logs to stdout/stderr for the platform's log collector.
accesslog = "-"
errorlog = "-"
loglevel = LOG_LEVEL.lower()
# rid: the X-Request-ID the response carried (the proxy's, or the one the app generated).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# No runtime control socket (gunicorn 25+ opens one under $HOME by default): one gunicorn per
# container is managed by signals, and the image's $HOME is not writable by the app user.
control_socket_disable = True
# Heartbeat files in memory: a container's overlay filesystem can stall them.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs, not a shared temp file

if LOG_JSON:
    # gunicorn's own lines (start-up, workers, access) as JSON on stdout too, in the app's own
    # shape: a log collector parsing JSON lines would otherwise get plain text in between.
    _shape = stdout_config(as_json=True)
    _stdout = _shape["handlers"]["stdout"]
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {**_shape["filters"], "access_request_id": {"()": "config.logging.AccessRequestIdFilter"}},
        "formatters": _shape["formatters"],
        "handlers": {"stdout": _stdout, "access": {**_stdout, "filters": ["access_request_id"]}},
        "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
