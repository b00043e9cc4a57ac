import json
import re

from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

WHOLE_NUMBER = re.compile(r"[0-9]+\Z")


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`, with `page_size` capped at 100; a page past the end is a 404.

    Both must be whole numbers of 1 or more, as the schema says: anything else is a 400 under the
    parameter's name (DRF answers a 404 for such a page and ignores such a page size)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        errors = {
            name: ["Enter a whole number of 1 or more."]
            for name in (self.page_query_param, self.page_size_query_param)
            if not self._valid(request, name)
        }
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema):
        """Every key of the envelope is in every answer: `next` and `previous` are null on the last
        and first pages, never missing, so generated clients type them as nullable, not optional."""
        envelope = super().get_paginated_response_schema(schema)
        envelope["required"] = [*envelope.get("required", []), "next", "previous"]
        return envelope

    @staticmethod
    def _valid(request, name) -> bool:
        if name not in request.query_params:
            return True
        value = request.query_params[name]
        return bool(WHOLE_NUMBER.match(value)) and int(value) >= 1


# --- Lists over tables that grow without bound (the post list) ----------------------------------
# Up to this many matching rows the count is exact; past it, the planner's estimate.
COUNT_EXACT_MAX = 1000
# Deepest row a page number reaches: a deeper offset would read and skip every row before it.
MAX_OFFSET_ROWS = 10_000


class TooDeep(Exception):
    """A page number past MAX_OFFSET_ROWS while more rows than that match."""


class BoundedCountPaginator(DjangoPaginator):
    """A paginator whose cost does not grow with the table.

    - The count reads at most COUNT_EXACT_MAX + 1 matching rows. Past that, on Postgres, it is
      the planner's estimate of the matching rows (an EXPLAIN, no row read), and `count_exact`
      is false. SQLite (the embedded mode, small data) always counts.
    - A page's rows are picked by primary key in a narrow subquery (`id IN (SELECT id ... LIMIT
      OFFSET)`, an index-only walk), so the rows skipped by the offset are never joined nor
      annotated; and it fetches one row more than the page, so whether a next page exists is
      known exactly whatever the count says.
    - No page reaches past MAX_OFFSET_ROWS (BoundedCountPagination answers 400).
    """

    count_exact = True

    @cached_property
    def count(self):
        queryset = self.object_list.order_by().values("pk")
        if connections[queryset.db].vendor != "postgresql":
            return queryset.count()
        bounded = queryset[: COUNT_EXACT_MAX + 1].count()
        if bounded <= COUNT_EXACT_MAX:
            return bounded
        self.count_exact = False
        return max(_planner_estimate(queryset), COUNT_EXACT_MAX + 1)

    def page(self, number):
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        if offset + self.per_page > MAX_OFFSET_ROWS:
            raise TooDeep(f"Pages reach the first {MAX_OFFSET_ROWS} rows; filter with created_before.")
        keys = self.object_list.values("pk")[offset : offset + self.per_page + 1]
        rows = list(self.object_list.filter(pk__in=keys))
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return _Page(rows[: self.per_page], number, self, has_next=len(rows) > self.per_page)

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        self.count  # noqa: B018 - computed first: it decides count_exact
        if self.count_exact and number > 1 and number > self.num_pages:
            raise EmptyPage("That page contains no results")
        return number


class _Page(Page):
    def __init__(self, rows, number, paginator, *, has_next):
        super().__init__(rows, number, paginator)
        self._has_next = has_next and number * paginator.per_page + paginator.per_page <= MAX_OFFSET_ROWS

    def has_next(self):
        return self._has_next

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1


def _planner_estimate(queryset) -> int:
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class BoundedCountPagination(PageNumberPagination):
    """PageNumberPagination over BoundedCountPaginator: the envelope adds `count_exact`, and a page
    deeper than MAX_OFFSET_ROWS rows answers 400 under `page`."""

    django_paginator_class = BoundedCountPaginator
    page_description = (
        "Page number, from 1; a page past the end answers 404, anything but a whole number of 1 or more 400. "
        f"Pages reach the first {MAX_OFFSET_ROWS:,} "
        "rows: a deeper one answers 400 and the last reachable page's `next` is null; to go further "
        "back in time, filter with `created_before` (the oldest `created_at` seen)."
    )

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except TooDeep as exc:
            raise ValidationError({self.page_query_param: [str(exc)]}) from exc

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": self.page.paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["count"]["description"] = (
            f"Matching results: exact up to {COUNT_EXACT_MAX}, past that the database's estimate (see `count_exact`)."
        )
        envelope["properties"] = {
            "count": envelope["properties"].pop("count"),
            "count_exact": {
                "type": "boolean",
                "description": f"false when more than {COUNT_EXACT_MAX} results match and `count` is an estimate.",
            },
            **envelope["properties"],
        }
        envelope["required"] = [*envelope.get("required", []), "count_exact"]
        return envelope
