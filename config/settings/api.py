"""The API: Django REST framework (with the project's classes, by dotted path), throttle rates,
JWT and the OpenAPI schema."""

from datetime import timedelta

from config.env import DEBUG, env

from .security import JWT_SIGNING_KEY

THROTTLE_ENABLED = env.bool("THROTTLE_ENABLED", default=True)
THROTTLE_RATES = {
    "anon": env.rate("THROTTLE_ANON_RATE", default="120/min"),
    "user": env.rate("THROTTLE_USER_RATE", default="600/min"),
    "auth": env.rate("THROTTLE_AUTH_RATE", default="10/min"),
    # Sign-in attempts (POSTs) on the admin's login page per client address: past it, a 429 and
    # no password is checked, not even the right one, until the window has moved on.
    "admin_login": env.rate("THROTTLE_ADMIN_LOGIN_RATE", default="10/hour"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its Bearer challenge is the WWW-Authenticate header of every 401.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # The browsable HTML API only while developing (DEBUG): in production every endpoint answers
    # JSON, even to a browser, and its forms are no second way in. /api/docs/ (Swagger UI) and
    # /api/redoc/ render themselves and stay.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "api.filters.SearchFilter",
        "api.filters.OrderingFilter",
    ],
    # Its page size, and the largest a client may ask for, are the class's own.
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's own, but a Redis outage lets requests through instead of failing them.
        "api.throttling.AnonRateThrottle",
        "api.throttling.UserRateThrottle",
        "api.throttling.ScopedRateThrottle",
    ]
    if THROTTLE_ENABLED
    else [],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    # Throttles count by client address. 0 (the default): the connection's own address, and
    # X-Forwarded-For, which a client reaching gunicorn directly writes itself, is ignored. N: the
    # entry N places from the right of X-Forwarded-For, the one the outermost proxy appended; each
    # manifest sets the number its deployment shape needs (docs/security.md, "Deployment shapes").
    # Left unset (None), DRF would use the whole header: a made-up value per request would escape
    # every throttle.
    "NUM_PROXIES": env.non_negative_int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # One error body for every 4xx and 5xx (api/errors.py, docs/api.md).
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "api.errors.ExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "api.errors.ExceptionFormatter",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    # JWT_SIGNING_KEY, or a key derived from SECRET_KEY, never SECRET_KEY itself (config/settings/security.py).
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Every token carries a digest of its owner's password hash: a password change (or an
    # admin's reset) revokes every access and refresh token issued before it.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    # Sign-in starts a token family; refresh checks the token's owner (exists, active, same
    # password), then rotates atomically, a reused token revoking its family (accounts.services).
    "TOKEN_OBTAIN_SERIALIZER": "accounts.serializers.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.serializers.TokenRefreshSerializer",
}
# Seconds after a refresh token's use during which presenting it again is refused alone (a
# client's duplicate or concurrent request); later, it is taken for a stolen copy and revokes
# every token of its sign-in (accounts.services).
JWT_REFRESH_REUSE_GRACE_SECONDS = env.non_negative_int("JWT_REFRESH_REUSE_GRACE_SECONDS", default=10)

SPECTACULAR_SETTINGS = {
    "TITLE": "Blog API",
    "DESCRIPTION": "Posts, comments, subscriptions and notifications, with JWT authentication.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # No call to the public validator badge service: the docs work offline.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "TAGS": [
        {"name": "posts", "description": "Published posts, plus your own drafts."},
        {"name": "comments", "description": "Comments on posts you can see."},
        {"name": "auth", "description": "Accounts and JWT tokens: send `Authorization: Bearer <access>`."},
        {"name": "subscriptions", "description": "Authors you follow."},
        {"name": "notifications", "description": "New posts by authors you follow."},
    ],
    # Enum names a person would write, as generated clients name their types after them.
    "ENUM_NAME_OVERRIDES": {
        "BadRequestTypeEnum": ["validation_error", "client_error"],
        "ClientErrorTypeEnum": ["client_error"],
        "ServerErrorTypeEnum": ["server_error"],
    },
    # /health/ and /ready/ are plain Django views for probes, not part of the API contract.
}
