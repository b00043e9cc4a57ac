"""OpenAPI generation: the shared error bodies and the rules saying which operation answers which error.

Error responses are derived from each view (its body, path, permissions), so a new endpoint is
documented truthfully without boilerplate; an explicit `@extend_schema(responses=...)` wins.
Operations without a summary raise a schema warning, which `spectacular --fail-on-warn` turns
into a failure.
"""

from django import forms
from drf_spectacular.contrib import django_filters as django_filters_contrib
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiFilterExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import permissions, serializers

from api.filters import SEARCH_MAX_LENGTH, SEARCH_MAX_TERMS


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a human.")
    code = serializers.CharField(required=False, help_text="Machine-readable reason, e.g. `token_not_valid`.")
    messages = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text="For a rejected token: why each token type refused it.",
    )


class FieldErrorsSerializer(serializers.Serializer):
    """Marker: its schema is written by FieldErrorsExtension (field names are not known in advance)."""


class FieldErrorsExtension(OpenApiSerializerExtension):
    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": "Messages per invalid field or query parameter; `non_field_errors` for the body as a whole.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"title": ["This field may not be blank."]},
        }


BAD_REQUEST = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="BadRequest",
        serializers=[FieldErrorsSerializer, ErrorSerializer],
        resource_type_field_name=None,
    ),
    description="Invalid input: messages per field or query parameter, or `detail` when the body is not JSON.",
)
UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer,
    description="No credentials, or an invalid or expired access token (`WWW-Authenticate: Bearer`).",
)
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Signed in, but this is someone else's content.")
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="No such object, or one you may not see (someone else's draft), or a page past the end.",
)
TOO_LARGE = OpenApiResponse(
    ErrorSerializer,
    description="The body is over 1 MiB: refused by nginx in front of the app (nginx.conf) before the app "
    "reads it, or by the app itself (DATA_UPLOAD_MAX_MEMORY_SIZE).",
)
URI_TOO_LONG = OpenApiResponse(
    ErrorSerializer,
    description="The request line (path and query string) is over 8 KiB: refused by nginx or gunicorn before "
    "the app sees it.",
)
THROTTLED = OpenApiResponse(
    ErrorSerializer, description="Too many requests; the `Retry-After` header says how many seconds to wait."
)

WRITE_METHODS = ("POST", "PUT", "PATCH")


class AutoSchema(SpectacularAutoSchema):
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
        if has_body or (self._is_list_view() and self.get_filter_backends()):
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
        return errors

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds until a retry may succeed.",
            }
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
        if filter_field.field_class is forms.IntegerField:
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
        return [
            build_parameter_type(
                name=self.target.ordering_param,
                schema={
                    "type": "array",
                    "items": {"type": "string", "enum": [v for f in fields for v in (f, f"-{f}")]},
                },
                location="query",
                description="Sort by these fields, comma-separated; `-` for descending. Unknown fields are ignored.",
                explode=False,
                style="form",
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


PAGE_DESCRIPTION = "Page number, from 1; a page past the end answers 404."


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
                schema={"type": "integer"},
                location="query",
                description=f"Results per page (default {paginator.page_size}); "
                + (f"larger values are capped at {paginator.max_page_size}; " if paginator.max_page_size else "")
                + "invalid ones fall back to the default.",
            ),
        ]
