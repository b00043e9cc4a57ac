import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

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

    @staticmethod
    def _valid(request, name) -> bool:
        if name not in request.query_params:
            return True
        value = request.query_params[name]
        return bool(WHOLE_NUMBER.match(value)) and int(value) >= 1
