"""gunicorn configuration for scripts/web. Values come from config/settings.py (the environment)."""

from config import settings

bind = f"0.0.0.0:{settings.PORT}"
workers = settings.WEB_CONCURRENCY
threads = settings.WEB_THREADS
# Recycle workers now and then so a slow leak cannot grow forever; jitter avoids restarting all at once.
max_requests = 1000
max_requests_jitter = 100
timeout = settings.WEB_TIMEOUT
graceful_timeout = 30
keepalive = 5
forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS
# Logs to stdout/stderr for the platform's log collector.
accesslog = "-"
errorlog = "-"
loglevel = settings.LOG_LEVEL.lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s'
# Heartbeat files in memory: a container's overlay filesystem can stall them.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs, not a shared temp file
