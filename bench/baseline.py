"""The benchmark's yardstick: the first page of the public post list, written by hand.

`.values()` and `JsonResponse`, no DRF: what the list costs without the framework. Routed
only by bench.urls, the URLconf when BENCH_BASELINE_ENABLED is set (scripts/bench sets it); it is
not part of the API. Its body carries the same data as `GET /api/posts/` for an anonymous client:
the same rows (`Post.objects.published()`, the same comment count) and the same fields, taken
from the API's serializer.
"""

from datetime import datetime

from django.http import JsonResponse
from django.urls import reverse

from api.pagination import BoundedCountPaginator
from blog.models import Post
from blog.selectors import COMMENT_COUNT
from blog.serializers import PostSerializer

PAGE_SIZE = 20
# Each field of the API's post, and the `.values()` key it is read from ("author.username" ->
# "author__username"). Read once: no serializer runs per request.
COLUMNS = {name: field.source.replace(".", "__") for name, field in PostSerializer().fields.items()}


def _json(value):
    # The same text DRF writes for a datetime: ISO 8601, "Z" for UTC.
    if not isinstance(value, datetime):
        return value
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def post_list(request):
    published = Post.objects.published()
    rows = (
        published.order_by("-created_at", "-id")
        .annotate(comment_count=COMMENT_COUNT)
        .values(*COLUMNS.values())[:PAGE_SIZE]
    )
    # The API's count, bounded the same way (exact up to a threshold, then the planner's estimate).
    counter = BoundedCountPaginator(published, PAGE_SIZE)
    count = counter.count
    results = [{name: _json(row[column]) for name, column in COLUMNS.items()} for row in rows]
    # Only the first page is served here; the next one is the API's.
    next_url = request.build_absolute_uri(f"{reverse('post-list')}?page=2") if count > PAGE_SIZE else None
    return JsonResponse(
        {"count": count, "count_exact": counter.count_exact, "next": next_url, "previous": None, "results": results}
    )
