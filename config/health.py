"""Liveness and readiness endpoints for load balancers and platform health checkers.

They are answered by a middleware placed first, so that neither host validation nor the
HTTPS redirect applies: platform checkers probe over plain HTTP with internal host names.
Failures name the component and the exception class only, never a URL, host or password.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

HEALTH_PATH = "/health/"
READY_PATH = "/ready/"


def liveness():
    """The process is up and serving; touches nothing external."""
    return JsonResponse({"status": "ok"})


def _check_database():
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_migrations():
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} unapplied migrations")


def _check_redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def readiness():
    """Ready for traffic: database answers, migrations applied, Redis answers when configured."""
    checks = {}
    database_ok = _run(checks, "database", _check_database)
    if database_ok:
        _run(checks, "migrations", _check_migrations)
    else:
        checks["migrations"] = "skipped"
    if settings.REDIS_URL:
        _run(checks, "redis", _check_redis)
    ready = all(value == "ok" for value in checks.values())
    if not database_ok:
        # A broken connection must not be reused by the next probe or request.
        connections[DEFAULT_DB_ALIAS].close()
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def _run(checks, name, check):
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; only its class is reported
        checks[name] = f"error: {type(exc).__name__}"
        return False
    checks[name] = "ok"
    return True


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path == HEALTH_PATH:
                return liveness()
            if request.path == READY_PATH:
                return readiness()
        return self.get_response(request)
