"""The post list's query parameters."""

from django.db import connection
from django.db.models import FloatField, Value
from django_filters import rest_framework as filters

from api.filters import (
    MAX_ID,
    SEARCH_MAX_LENGTH,
    SEARCH_MAX_TERMS,
    BooleanFilter,
    IdFilter,
    IsoDateTimeFilter,
    OrderingFilter,
    SearchFilter,
)

from . import search
from .models import Post


class PostFilter(filters.FilterSet):
    """`?author=<user id>&published=true&created_after=<ISO 8601>&created_before=<ISO 8601>`.

    Invalid values answer 400 with the errors per field.
    """

    author = IdFilter(field_name="author_id", min_value=1, max_value=MAX_ID, help_text="Author's user id.")
    published = BooleanFilter(help_text="true for published posts, false for your drafts.")
    created_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lte", help_text="Created at or before (ISO 8601)."
    )

    class Meta:
        model = Post
        fields = ["author", "published", "created_after", "created_before"]

    def get_form_class(self):
        # The form depends only on the declared filters: built once per class, not per request.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class


class PostSearchFilter(SearchFilter):
    """`?search=`: Postgres full-text search (blog/search.py), DRF's substring search on SQLite.

    Keeps the caps of api.filters.SearchFilter. Every post also gets a `rank` (0 without a
    search), so `ordering=-rank` (most relevant first) is valid with or without one.
    """

    search_description = (
        "Full-text search: every word must occur in the title or the body, as a word after stemming "
        "(`posting` finds `posts`; case and accents as the text search configuration SEARCH_CONFIG, "
        "English by default, treats them); stop words such as `the` are ignored, and a search of stop "
        "words only finds nothing; a word without a letter or digit (`%`, an emoji) matches as a case-insensitive "
        "substring instead. Newest first unless `ordering` says otherwise: `ordering=-rank` puts "
        f"the most relevant first (title matches weigh more) among the {search.RANK_MAX_MATCHES:,} newest "
        "matches, and leaves older ones out (`count` counts those ranked); to rank older posts, add "
        "`created_before`. On SQLite (the embedded mode) every word "
        "must appear in the title or the body as a case-insensitive substring. "
        f"At most {SEARCH_MAX_TERMS} words and {SEARCH_MAX_LENGTH} characters; more answers 400."
    )

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        if terms and connection.vendor == "postgresql":
            return search.search(queryset, terms, ranked=_ordered_by_rank(request))
        if terms:
            queryset = super().filter_queryset(request, queryset, view)
        return queryset.annotate(rank=Value(0.0, output_field=FloatField()))


def _ordered_by_rank(request) -> bool:
    return "rank" in (field.lstrip("-") for field in OrderingFilter.requested(request))
