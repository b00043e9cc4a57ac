"""One error body for every 4xx and 5xx, inside DRF views or not: drf-standardized-errors' shape.

    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"code": "required", "detail": "This field is required.", "attr": "title"}]}

`type` says which of the three it is; each error has a machine-readable `code`, a `detail` for a
human and the input it is about in `attr` (a field, a query parameter, `non_field_errors`, a
nested `items.0.name`; null when it names none). Only a validation error carries more than one.
docs/api.md describes it; api/schema.py documents one component per status; nginx.conf's and
gunicorn's own errors (config/gunicorn_worker.py) are written in it too (tests/deploy/test_limits.py).

DRF views answer through `ExceptionHandler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]); errors raised
outside them (unknown URLs, crashes) through Django's handlers below (config/urls.py).
"""

import json
import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from drf_standardized_errors.formatter import ExceptionFormatter as StandardFormatter
from drf_standardized_errors.formatter import flatten_errors
from drf_standardized_errors.handler import ExceptionHandler as StandardHandler
from drf_standardized_errors.types import Error
from psycopg.errors import QueryCanceled
from rest_framework import exceptions, status

# Seconds a client is asked to wait while the database is unreachable or restarting.
DATABASE_RETRY_AFTER = 5


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is unavailable, try again shortly."
    default_code = "service_unavailable"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


class RequestTimeout(exceptions.APIException):
    status_code = status.HTTP_408_REQUEST_TIMEOUT
    default_detail = "The request body did not arrive in time."
    default_code = "request_timeout"


class ExceptionFormatter(StandardFormatter):
    """The library's formatter, with exactly one error for anything but a validation error: a
    rejected JWT's detail is a dict (`detail`, `code`, `messages` per token type) that the library
    would flatten into three errors named after those keys."""

    def get_errors(self):
        if isinstance(self.exc, exceptions.ValidationError):
            return flatten_errors(self.exc.detail)
        detail = self.exc.detail
        if isinstance(detail, dict):
            detail = detail.get("detail") or next(iter(flatten_errors(detail)), None)
        elif isinstance(detail, list):
            detail = next(iter(flatten_errors(detail)), None)
        if isinstance(detail, Error):
            return [Error(detail.code, detail.detail, None)]
        code = getattr(detail, "code", None) or self.exc.default_code
        return [Error(code, str(detail if detail is not None else self.exc.default_detail), None)]


class ExceptionHandler(StandardHandler):
    """The library's handler for DRF's own exceptions (and Django's Http404 and PermissionDenied).
    Anything else is a bug or an outage: left to Django, which logs it, reports it to Sentry and
    answers through `server_error` below (a 503 for the database)."""

    def convert_known_exceptions(self, exc):
        # As DRF's own handler: the message stays ("No Post matches the given query.").
        if isinstance(exc, Http404):
            return exceptions.NotFound(*exc.args)
        if isinstance(exc, DjangoPermissionDenied):
            return exceptions.PermissionDenied(*exc.args)
        return exc

    def should_not_handle(self, exc):
        return not isinstance(exc, exceptions.APIException)


def error_body(exc: exceptions.APIException) -> dict:
    """The body the API answers `exc` with, for responses written outside DRF views."""
    return ExceptionFormatter(exc, {"view": None, "args": (), "kwargs": {}, "request": None}, exc).run()


def error_response(exc: exceptions.APIException, **headers) -> JsonResponse:
    response = JsonResponse(error_body(exc), status=exc.status_code)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_json(status_code: int, code: str, detail: str) -> str:
    """The body as one line of JSON, for nginx.conf's and gunicorn's own errors (and their drift tests)."""
    exc = exceptions.APIException(detail, code)
    exc.status_code = status_code
    return json.dumps(error_body(exc))


def not_found(request, exception=None):
    return error_response(exceptions.NotFound())


def server_error(request):
    """500, or 503 with Retry-After when the database is unreachable (a restart, a failover) or
    cancelled a statement that ran past DB_STATEMENT_TIMEOUT_MS: that is no bug, and a client that
    retries shortly may succeed. Either way the error is still logged and sent to Sentry (Django
    does both before calling this)."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError) and isinstance(exception.__cause__, QueryCanceled):
        return error_response(
            ServiceUnavailable("The request took too long, try again later.", "timeout"),
            Retry_After=str(DATABASE_RETRY_AFTER),
        )
    if isinstance(exception, OperationalError | InterfaceError):
        return error_response(
            ServiceUnavailable("The database is unavailable, try again shortly.", "database_unavailable"),
            Retry_After=str(DATABASE_RETRY_AFTER),
        )
    return error_response(exceptions.APIException("Internal server error.", "error"))


def too_large_detail() -> str:
    """What nginx answers in front too (nginx.conf client_max_body_size), so both agree."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"
    return f"Request body too large (at most {size})."


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return error_response(RequestTooLarge(too_large_detail()))
    return error_response(exceptions.ParseError("Bad request.", "bad_request"))


def request_timeout(request):
    """408: the client stopped sending its request body before it was complete (config/middleware.py)."""
    # gunicorn closes the connection after it: what is left of the body cannot be drained in time.
    return error_response(RequestTimeout())


def permission_denied(request, exception=None):
    return error_response(exceptions.PermissionDenied())
