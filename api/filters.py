"""Filters every list endpoint can use: DRF's search and ordering made strict and stable, and
django-filter field types that answer bad values with a 400 under the parameter's name."""

import re
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import filters as drf_filters
from rest_framework.exceptions import ValidationError

# Ids beyond a signed 64-bit integer cannot exist; rejecting them keeps the database out of it.
MAX_ID = 2**63 - 1

# Each search term is one more case-insensitive scan of every searched column: a thousand terms
# over long posts hold a worker for seconds. These caps bound the work of one `?search=`; the
# schema's parameter description states them (api/schema.py).
SEARCH_MAX_TERMS = 10
SEARCH_MAX_LENGTH = 200


def _present_but_empty(value) -> bool:
    """`?created_before=` with nothing after it: a value the schema does not allow (an absent
    parameter reaches a field as None). django-filter would read it as "no filter"."""
    return value == ""


class StrictIntegerField(forms.IntegerField):
    """Digits, optionally signed: not "" and not "1.0" (which Django's field reads as 1)."""

    def to_python(self, value):
        if value is not None and not isinstance(value, int) and not re.fullmatch(r"[+-]?[0-9]+", str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IdFilter(filters.NumberFilter):
    field_class = StrictIntegerField


class StrictBooleanField(forms.NullBooleanField):
    """`true`/`false` (or `1`/`0`, any case). Anything else is an error under the field: the
    stock boolean filter reads it as "no filter" and silently answers with every post."""

    def to_python(self, value):
        if _present_but_empty(value):
            raise forms.ValidationError("Enter true or false.", code="invalid")
        if value in self.empty_values:
            return None
        text = str(value).lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Enter true or false.", code="invalid")


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)  # hands the raw value to the field
        super().__init__(*args, **kwargs)


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC before it reaches the query.

    ISO 8601 (and the schema's `format: date-time`) allows UTC offsets up to ±23:59, which
    PostgreSQL refuses beyond ±15:59 (a DataError, so a 500). And a time near year 1 or 9999
    can fall outside Python's datetime range once in UTC, which SQLite's adapter hits (an
    OverflowError). Such a bound lies beyond every post: it becomes the nearest one that exists.
    """

    def to_python(self, value):
        if _present_but_empty(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class SearchFilter(drf_filters.SearchFilter):
    """DRF's search, with an invalid term (a NUL byte) reported under `search` like other filters,
    and at most SEARCH_MAX_LENGTH characters and SEARCH_MAX_TERMS terms (a 400 under `search`)."""

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if len(value) > SEARCH_MAX_LENGTH:
            raise ValidationError(
                {self.search_param: [f"Ensure this value has at most {SEARCH_MAX_LENGTH} characters."]}
            )
        try:
            terms = super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from exc
        if len(terms) > SEARCH_MAX_TERMS:
            raise ValidationError({self.search_param: [f"Search for at most {SEARCH_MAX_TERMS} words."]})
        return terms


class OrderingFilter(drf_filters.OrderingFilter):
    """DRF's ordering, made strict and stable.

    - Several fields as generated clients send an array (`?ordering=-published_at&ordering=title`)
      or comma-separated (`?ordering=-published_at,title`), or both: DRF reads only the last value.
    - An unknown or empty field is a 400 under `ordering` (DRF ignores it), as the schema's enum says.
    - The view's default ordering is appended as the tie-breaker: equal keys (two posts with one
      title) would come back in whatever order the database likes, and consecutive pages could
      repeat one post and skip another.
    - A nullable field sorts its nulls last in both directions (a draft has no `published_at`:
      `ordering=-published_at` lists the newest published post first, not every draft), the same
      on Postgres and SQLite; an index made for such an order says NULLS LAST too."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        return queryset.order_by(*(_nulls_last(queryset.model, field) for field in ordering)) if ordering else queryset

    @classmethod
    def requested(cls, request) -> list[str]:
        """The fields `ordering` names, each with its `-`, in any of the forms above, unchecked."""
        values = request.query_params.getlist(cls.ordering_param)
        return [field.strip() for value in values for field in value.split(",")]

    def get_ordering(self, request, queryset, view):
        requested = self.requested(request)
        if requested:
            valid = self.remove_invalid_fields(queryset, requested, view, request)
            if len(valid) != len(requested):
                allowed = sorted(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
                raise ValidationError(
                    {self.ordering_param: [f"Order by {', '.join(allowed)}, each optionally prefixed with `-`."]}
                )
            ordering = valid
        else:
            ordering = list(self.get_default_ordering(view) or [])
        chosen = {field.lstrip("-") for field in ordering}
        return ordering + [field for field in self.get_default_ordering(view) or [] if field.lstrip("-") not in chosen]


def _nulls_last(model, field: str):
    """`field` (a name, `-` for descending) as an order with nulls last if the model's field is nullable."""
    name = field.lstrip("-")
    try:
        nullable = model._meta.get_field(name).null
    except FieldDoesNotExist:  # an annotation (rank) or a relation path: as DRF orders it
        return field
    if not nullable:
        return field
    expression = F(name)
    return expression.desc(nulls_last=True) if field.startswith("-") else expression.asc(nulls_last=True)
