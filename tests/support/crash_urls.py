"""Test-only URLconf: the app's URLs plus views that fail on purpose."""

from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from config.urls import urlpatterns as app_urlpatterns


class CrashTestError(Exception):
    """Raised by /crash/ only: an unhandled error no real view raises."""


class CrashView(APIView):
    # Authenticated, so a user (with an email) is attached to the request when it fails.
    permission_classes = [IsAuthenticated]

    def get(self, request):
        raise CrashTestError("deliberate failure for the error-reporting test")


class DatabaseDownView(APIView):
    def get(self, request):
        # What psycopg raises, through Django, when the server refuses or drops the connection.
        raise OperationalError('connection to server at "db", port 5432 failed: Connection refused')


def slow_query(request):
    """A statement that takes ?seconds= (Postgres's pg_sleep); answers the connection's statement_timeout."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [float(request.GET.get("seconds", "0"))])
        cursor.execute("SHOW statement_timeout")
        (timeout,) = cursor.fetchone()
    return JsonResponse({"statement_timeout": timeout})


def forbidden(request):
    raise PermissionDenied


urlpatterns = [
    path("crash/", CrashView.as_view()),
    path("database-down/", DatabaseDownView.as_view()),
    path("forbidden/", forbidden),
    path("slow-query/", slow_query),
    *app_urlpatterns,
]

handler400 = "api.errors.bad_request"
handler403 = "api.errors.permission_denied"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
