"""Request ids for log lines: taken from the proxy's X-Request-ID header, or generated."""

import contextvars
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A proxy-supplied id is echoed into logs and headers, so accept only a safe, short token.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestIdMiddleware:
    """Binds the request id to the context of this request and returns it as X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Also on the request: Django logs 4xx/5xx responses ("Not Found: ...") after every
        # middleware has returned, when the context variable is already reset.
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the current request's, "-" outside a request."""

    def filter(self, record):
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class AccessRequestIdFilter(logging.Filter):
    """Adds `request_id` to gunicorn's access records: the X-Request-ID the response carried.

    gunicorn logs a request after the response is sent, outside the request's context; its
    record's args are the access-log atoms, response headers included as "{name}o".
    """

    def filter(self, record):
        atoms = record.args if isinstance(record.args, dict) else {}
        record.request_id = atoms.get("{x-request-id}o", "-")
        return True


def stdout_config(*, as_json: bool) -> dict:
    """The filters, formatters and stdout handler of a logging dictConfig, so that every process's
    lines have one shape: Django's LOGGING (config/settings/logging.py) and gunicorn's (config/gunicorn.py)."""
    return {
        "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json" if as_json else "plain",
                "filters": ["request_id"],
            }
        },
    }
