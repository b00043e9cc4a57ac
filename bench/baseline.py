"""The benchmark's yardstick: the first page of the public post list, written by hand.

`.values()` and `JsonResponse`, no DRF: what the list costs without the framework. Routed
only by bench.urls, the URLconf when BENCH_BASELINE_ENABLED is set (scripts/bench sets it); it is
not part of the API.
Its body carries the same data as `GET /api/posts/` for an anonymous client.
"""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.urls import reverse

from blog.models import Comment, Post

PAGE_SIZE = 20


def _iso(value):
    # The same text DRF writes for a datetime: ISO 8601, "Z" for UTC.
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def post_list(request):
    published = Post.objects.filter(published=True)
    comments = Comment.objects.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("pk"))
    rows = (
        published.order_by("-created_at", "-id")
        .annotate(comment_count=Coalesce(Subquery(comments.values("n")), 0, output_field=IntegerField()))
        .values(
            "id",
            "author_id",
            "author__username",
            "title",
            "body",
            "published",
            "published_at",
            "comment_count",
            "created_at",
            "updated_at",
        )[:PAGE_SIZE]
    )
    count = published.count()
    results = [
        {
            "id": row["id"],
            "author": row["author_id"],
            "author_username": row["author__username"],
            "title": row["title"],
            "body": row["body"],
            "published": row["published"],
            "published_at": _iso(row["published_at"]),
            "comment_count": row["comment_count"],
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
        }
        for row in rows
    ]
    # Only the first page is served here; the next one is the API's.
    next_url = request.build_absolute_uri(f"{reverse('post-list')}?page=2") if count > PAGE_SIZE else None
    return JsonResponse({"count": count, "next": next_url, "previous": None, "results": results})
