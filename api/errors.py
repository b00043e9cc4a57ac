"""JSON bodies for errors raised outside DRF views (unknown URLs, crashes): clients parse JSON."""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from psycopg.errors import QueryCanceled

# Seconds a client is asked to wait while the database is unreachable or restarting.
DATABASE_RETRY_AFTER = 5


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    """500, or 503 with Retry-After when the database is unreachable (a restart, a failover) or
    cancelled a statement that ran past DB_STATEMENT_TIMEOUT_MS: that is no bug, and a client that
    retries shortly may succeed. Either way the error is still logged and sent to Sentry (Django
    does both before calling this)."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError) and isinstance(exception.__cause__, QueryCanceled):
        response = JsonResponse({"detail": "The request took too long, try again later."}, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    if isinstance(exception, OperationalError | InterfaceError):
        response = JsonResponse({"detail": "The database is unavailable, try again shortly."}, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    return JsonResponse({"detail": "Internal server error."}, status=500)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        # What nginx answers in front (nginx.conf client_max_body_size), so both agree.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"
        return JsonResponse({"detail": f"Request body too large (at most {size})."}, status=413)
    return JsonResponse({"detail": "Bad request."}, status=400)


def request_timeout(request):
    """408: the client stopped sending its request body before it was complete (config/middleware.py)."""
    # gunicorn closes the connection after it: what is left of the body cannot be drained in time.
    return JsonResponse({"detail": "The request body did not arrive in time."}, status=408)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
