from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.views import admin_login, verify_email_page

from . import health

# The docs pages may load only the app's own assets. Redoc's sidebar asks its CDN for a logo:
# the browser refuses that under this policy and Redoc hides the image (air-gapped hosts too).
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _docs_page(view):
    def page(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response

    return page


urlpatterns = [
    # Served earlier by config.health.HealthCheckMiddleware; listed so they resolve everywhere.
    path("health/", lambda request: health.liveness(), name="health"),
    path("ready/", lambda request: health.readiness(), name="ready"),
    # Before the admin's own URLs, so its login page (and every redirect to it) is rate-limited.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    # The page the verification email links to by default (EMAIL_VERIFICATION_URL).
    path("verify-email/", verify_email_page, name="verify-email"),
    path("api/", include("accounts.urls")),
    path("api/", include("blog.urls")),
    # OpenAPI schema and its docs; the docs' assets come from drf-spectacular-sidecar via
    # whitenoise and their pages have no inline script, so they work offline and under a strict CSP.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", _docs_page(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path(
        "api/redoc/",
        _docs_page(SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")),
        name="redoc",
    ),
]

handler400 = "api.errors.bad_request"
handler403 = "api.errors.permission_denied"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
