"""OpenAPI generation: the shared error bodies and the rules saying which operation answers which error.

Error responses are derived from each view (its body, path, permissions), so a new endpoint is
documented truthfully without boilerplate; an explicit `@extend_schema(responses=...)` wins.
Operations without a summary raise a schema warning, which `spectacular --fail-on-warn` turns
into a failure.
"""

from django import forms
from drf_spectacular.contrib import django_filters as django_filters_contrib
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiFilterExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

from api.filters import SEARCH_MAX_LENGTH, SEARCH_MAX_TERMS


def _error_component(status_code: int, types: tuple[str, ...], codes: str, attr_help: str | None = None):
    """One component per status, all of one shape (api/errors.py): `ErrorResponse<status>`, whose
    items are `Error<status>`. A client discriminates them by status; no `oneOf` to guess from."""
    item = type(
        f"Error{status_code}Serializer",
        (serializers.Serializer,),
        {
            "code": serializers.CharField(help_text=f"Machine-readable reason: {codes}."),
            "detail": serializers.CharField(help_text="What went wrong, for a human."),
            "attr": serializers.CharField(
                allow_null=True,
                help_text=attr_help or "Always null: this error is about no one input.",
            ),
            "__module__": __name__,
        },
    )
    return type(
        f"ErrorResponse{status_code}Serializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(
                choices=types,
                help_text="`validation_error` (invalid input), `client_error` (another refused request) "
                "or `server_error`.",
            ),
            "errors": item(many=True, help_text="What went wrong: one item, or one per invalid input for a 400."),
            "__module__": __name__,
        },
    )


ErrorResponse400Serializer = _error_component(
    400,
    ("validation_error", "client_error"),
    "`required`, `invalid`, `blank`, `max_length`... for a `validation_error`; `parse_error` for a "
    "body that is not JSON",
    attr_help="The field or query parameter the message is about (`items.0.name` when nested, "
    "`non_field_errors` for the body as a whole); null for a `client_error`.",
)
ErrorResponse401Serializer = _error_component(
    401,
    ("client_error",),
    "`not_authenticated` (no credentials), `token_not_valid` (an invalid, expired or revoked token), "
    "`authentication_failed`, `no_active_account` (a wrong username or password at sign-in), `user_inactive`",
)
ErrorResponse403Serializer = _error_component(403, ("client_error",), "`permission_denied`")
ErrorResponse404Serializer = _error_component(404, ("client_error",), "`not_found`")
ErrorResponse413Serializer = _error_component(413, ("client_error",), "`request_too_large`")
ErrorResponse414Serializer = _error_component(414, ("client_error",), "`uri_too_long`")
ErrorResponse429Serializer = _error_component(429, ("client_error",), "`throttled`")
ErrorResponse500Serializer = _error_component(500, ("server_error",), "`error`")
ErrorResponse503Serializer = _error_component(
    503,
    ("server_error",),
    "`database_unavailable` (a restart, a failover), `timeout` (a statement ran past DB_STATEMENT_TIMEOUT_MS)",
)

BAD_REQUEST = OpenApiResponse(
    ErrorResponse400Serializer,
    description="Invalid input (`validation_error`): one error per message, `attr` naming the field or query "
    "parameter; or a body that is not JSON (`client_error`, `parse_error`).",
)
UNAUTHORIZED = OpenApiResponse(
    ErrorResponse401Serializer,
    description="No credentials, or an invalid or expired access token (`WWW-Authenticate: Bearer`).",
)
FORBIDDEN = OpenApiResponse(ErrorResponse403Serializer, description="Signed in, but this is someone else's content.")
NOT_FOUND = OpenApiResponse(
    ErrorResponse404Serializer,
    description="No such object, or one you may not see (someone else's draft), or a page past the end.",
)
TOO_LARGE = OpenApiResponse(
    ErrorResponse413Serializer,
    description="The body is over 1 MiB: refused by nginx in front of the app (nginx.conf) before the app "
    "reads it, or by the app itself (DATA_UPLOAD_MAX_MEMORY_SIZE).",
)
URI_TOO_LONG = OpenApiResponse(
    ErrorResponse414Serializer,
    description="The request line (path and query string) is over 8 KiB: refused by nginx or gunicorn before "
    "the app sees it.",
)
THROTTLED = OpenApiResponse(
    ErrorResponse429Serializer,
    description="Too many requests; the `Retry-After` header says how many seconds to wait.",
)
SERVER_ERROR = OpenApiResponse(ErrorResponse500Serializer, description="A bug: it is logged and reported.")
UNAVAILABLE = OpenApiResponse(
    ErrorResponse503Serializer,
    description="The database is unreachable or the request ran too long; retry after `Retry-After` seconds.",
)


def unauthorized(description: str) -> OpenApiResponse:
    """A 401 of the shared shape with an operation's own description (the token endpoints)."""
    return OpenApiResponse(ErrorResponse401Serializer, description=description)


WRITE_METHODS = ("POST", "PUT", "PATCH")


# The ViewSet actions whose operation id keeps the method's word (posts_list, posts_partial_update);
# any other action is named by its path alone (posts_publish, notifications_read_all).
STANDARD_ACTIONS = {"list", "create", "retrieve", "update", "partial_update", "destroy"}


class AutoSchema(SpectacularAutoSchema):
    def get_operation_id(self):
        action = getattr(self.view, "action", None)
        if action and action not in STANDARD_ACTIONS:
            return "_".join(token.replace("-", "_") for token in self._tokenize_path())
        return super().get_operation_id()

    def get_auth(self):
        """No `security` at all for an operation anyone may call. drf-spectacular lists the bearer
        scheme beside `{}` (optional); openapi-python-client then types the operation as needing
        its AuthenticatedClient, whose token cannot be empty. A signed-in client still sends its
        token to these (and sees its own drafts), as any client may."""
        requirements = super().get_auth()
        return [] if {} in requirements else requirements

    def get_summary(self):
        warn(f"{self.method} {self.path} has no summary: add @extend_schema(summary=...) to its view.")
        return None

    def _resolve_path_parameters(self, variables):
        # Routes match ids with `\d+`; say "integer" rather than "string with a digits pattern".
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("pattern") == r"^\d+$":
                parameter["schema"] = {"type": "integer"}
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return dict(sorted(responses.items()))

    def _error_responses(self):
        errors = {}
        has_body = self.method in WRITE_METHODS and self.get_request_serializer() is not None
        # A list's filters, and its page and page_size, answer invalid values with a 400.
        if has_body or (self._is_list_view() and (self.get_filter_backends() or self._get_paginator())):
            errors["400"] = BAD_REQUEST
        if self.view.get_authenticators():
            # Even public reads answer 401 to an invalid or expired token.
            errors["401"] = UNAUTHORIZED
        if self.method not in permissions.SAFE_METHODS and self._checks_object_permissions():
            errors["403"] = FORBIDDEN
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            errors["404"] = NOT_FOUND
        if has_body:
            errors["413"] = TOO_LARGE
        errors["414"] = URI_TOO_LONG
        # Declared whether or not THROTTLE_ENABLED is set, so the contract is the same everywhere.
        errors["429"] = THROTTLED
        errors["500"] = SERVER_ERROR
        errors["503"] = UNAVAILABLE
        return errors

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds until a retry may succeed.",
            }
        if status_code == "503":
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}
        if status_code == "401":
            headers["WWW-Authenticate"] = {"schema": {"type": "string"}, "description": 'e.g. `Bearer realm="api"`.'}
        return headers

    def _checks_object_permissions(self):
        if not getattr(self.view, "detail", False):
            return False
        base = permissions.BasePermission.has_object_permission
        return any(
            getattr(type(permission), "has_object_permission", base) is not base
            for permission in self.view.get_permissions()
        )


class DjangoFilterExtension(django_filters_contrib.DjangoFilterExtension):
    """Filters whose form field is an IntegerField take integers (upstream says "number")."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        if issubclass(filter_field.field_class, forms.IntegerField):
            for parameter in parameters:
                parameter["schema"]["type"] = "integer"
                for bound, keyword in (("minimum", "min_value"), ("maximum", "max_value")):
                    if filter_field.extra.get(keyword) is not None:
                        parameter["schema"][bound] = filter_field.extra[keyword]
        return parameters


class OrderingFilterExtension(OpenApiFilterExtension):
    """`ordering` with its allowed values, taken from the view's `ordering_fields`."""

    target_class = "rest_framework.filters.OrderingFilter"
    match_subclasses = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        fields = getattr(auto_schema.view, "ordering_fields", None)
        if not fields or fields == "__all__":
            return self.target.get_schema_operation_parameters(auto_schema.view)
        values = [value for field in fields for value in (field, f"-{field}")]
        return [
            build_parameter_type(
                name=self.target.ordering_param,
                schema={
                    "type": "array",
                    "items": {
                        "type": "string",
                        "enum": values,
                        # The enum's member names in generated clients (openapi-python-client, and
                        # openapi-typescript --enum): ORDERING_TITLE, ORDERING_TITLE_DESC...
                        "x-enum-varnames": [
                            f"ORDERING_{value.lstrip('-').upper()}{'_DESC' if value.startswith('-') else ''}"
                            for value in values
                        ],
                    },
                },
                location="query",
                # Repeated, as generated clients send an array (form style, exploded): the default.
                description="Sort by these fields, in order: `?ordering=-published_at&ordering=title` "
                "(or comma-separated, `?ordering=-published_at,title`); `-` for descending. An unknown "
                "field answers 400.",
            )
        ]


class SearchFilterExtension(OpenApiFilterExtension):
    target_class = "rest_framework.filters.SearchFilter"
    match_subclasses = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        fields = getattr(auto_schema.view, "search_fields", None)
        if not fields:
            return []
        return [
            build_parameter_type(
                name=self.target.search_param,
                schema={"type": "string", "maxLength": SEARCH_MAX_LENGTH},
                location="query",
                description=getattr(self.target, "search_description", None)
                or f"Every word must appear in one of: {', '.join(fields)} (case-insensitive). "
                f"At most {SEARCH_MAX_TERMS} words and {SEARCH_MAX_LENGTH} characters; more answers 400.",
            )
        ]


PAGE_DESCRIPTION = "Page number, from 1; a page past the end answers 404, anything but a whole number of 1 or more 400."


class PageNumberPaginationExtension(OpenApiFilterExtension):
    target_class = "rest_framework.pagination.PageNumberPagination"
    match_subclasses = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        paginator = self.target
        return [
            build_parameter_type(
                name=paginator.page_query_param,
                schema={"type": "integer", "minimum": 1},
                location="query",
                description=getattr(paginator, "page_description", PAGE_DESCRIPTION),
            ),
            build_parameter_type(
                name=paginator.page_size_query_param,
                schema={"type": "integer", "minimum": 1},
                location="query",
                description=f"Results per page (default {paginator.page_size}); "
                + (f"larger values are capped at {paginator.max_page_size}; " if paginator.max_page_size else "")
                + "anything but a whole number of 1 or more answers 400.",
            ),
        ]
