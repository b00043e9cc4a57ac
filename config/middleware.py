"""Reads each request's body in full before anything answers it.

Several answers come before the view reads the body: a 401 for a missing or expired token, a
redirect to HTTPS, a 403, a 404. gunicorn then drops what is left of the body before reusing or
closing the connection, but only its first 64 KiB; past that it resets the connection while
nginx, which buffered the whole body, is still sending it, and nginx answers 502 instead of the
app's answer: a client with an expired token uploading a long post is told the app is down
instead of being asked to sign in again. Bodies are at most config/limits.py's
REQUEST_BODY_MAX_BYTES (1 MiB: Django's DATA_UPLOAD_MAX_MEMORY_SIZE, and nginx refuses larger ones),
which the view would read into memory anyway.

A client that does not send its whole body within REQUEST_READ_TIMEOUT_SECONDS
(config/limits.py; gunicorn's worker, config/gunicorn_worker.py, enforces it) is answered 408
here, and the thread that was waiting for it serves someone else.
"""

from django.http import UnreadablePostError

from api.errors import request_timeout


class ReadWholeBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
            try:
                # Over DATA_UPLOAD_MAX_MEMORY_SIZE this raises RequestDataTooBig: a 413 (api/errors.py).
                request.body  # noqa: B018 - read for its effect: the stream is consumed and kept
            except UnreadablePostError:
                return request_timeout(request)
        return self.get_response(request)
