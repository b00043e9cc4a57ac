"""On Postgres: full-text search through the GIN index (blog/search.py), ranking, the search
configuration, and a post list whose count and deep pages stay bounded (api/pagination.py)."""

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.pagination import COUNT_EXACT_MAX, MAX_OFFSET_ROWS
from blog import search
from blog.models import Post
from tests.support.contract import field_errors, ok
from tests.support.external import postgres_url
from tests.support.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres():
    postgres_url()


def ids(body):
    return [item["id"] for item in body["results"]]


def test_search_finds_words_by_their_stem_in_title_or_body(api_client):
    titled = PostFactory(live=True, title="Posting to Postgres", body="nothing here")
    bodied = PostFactory(live=True, title="Another", body="We posted it; the databases agreed.")
    PostFactory(live=True, title="Unrelated", body="postgresql-free text about caching")
    assert set(ids(ok(api_client.get("/api/posts/", {"search": "posts"})))) == {titled.pk, bodied.pk}
    assert ids(ok(api_client.get("/api/posts/", {"search": "POSTGRES posting"}))) == [titled.pk]
    # Stop words are not words to find: a search of stop words only finds nothing.
    assert ids(ok(api_client.get("/api/posts/", {"search": "the"}))) == []


def test_ordering_by_rank_puts_title_matches_first(api_client):
    in_body = PostFactory(live=True, title="Notes", body="redis " * 3, created_at=timezone.now())
    in_title = PostFactory(
        live=True, title="Redis", body="text", created_at=timezone.now() - timezone.timedelta(days=1)
    )
    newest_first = ids(ok(api_client.get("/api/posts/", {"search": "redis"})))
    assert newest_first == [in_body.pk, in_title.pk]
    assert ids(ok(api_client.get("/api/posts/", {"search": "redis", "ordering": "-rank"}))) == [in_title.pk, in_body.pk]
    # Without a search every rank is 0: the list's own order.
    assert ids(ok(api_client.get("/api/posts/", {"ordering": "-rank"}))) == [in_body.pk, in_title.pk]


def test_ordering_by_rank_ranks_the_newest_matches_only(api_client, monkeypatch):
    """Ranking reads every ranked post: it ranks the RANK_MAX_MATCHES newest matches, and the
    count, the pages and `created_before` all agree on which those are."""
    monkeypatch.setattr(search, "RANK_MAX_MATCHES", 3)
    now = timezone.now()
    oldest_best = PostFactory(live=True, title="Redis", body="redis", created_at=now - timezone.timedelta(days=9))
    in_title = PostFactory(live=True, title="Redis notes", body="text", created_at=now - timezone.timedelta(days=3))
    in_body = [
        PostFactory(live=True, title="Notes", body="about redis", created_at=now - timezone.timedelta(days=days))
        for days in (1, 2)
    ]
    PostFactory(live=True, title="Unrelated", body="caching", created_at=now)
    ranked = ok(api_client.get("/api/posts/", {"search": "redis", "ordering": "-rank"}))
    assert ids(ranked) == [in_title.pk, in_body[0].pk, in_body[1].pk]
    assert (ranked["count"], ranked["count_exact"]) == (3, True)
    # The list form of `ordering` ranks the same way; newest first is not capped.
    as_list = ok(api_client.get("/api/posts/", {"search": "redis", "ordering": ["title", "-rank"]}))
    assert set(ids(as_list)) == {in_title.pk, *(post.pk for post in in_body)}
    assert ok(api_client.get("/api/posts/", {"search": "redis"}))["count"] == 4
    # Older matches are ranked once the search is narrowed to them.
    older = {"search": "redis", "ordering": "-rank", "created_before": (now - timezone.timedelta(days=2.5)).isoformat()}
    assert ids(ok(api_client.get("/api/posts/", older))) == [oldest_best.pk, in_title.pk]


def test_search_reads_the_gin_index(api_client):
    author = UserFactory()
    _published(500, author)
    PostFactory(author=author, live=True, title="A needle", body="in a haystack")
    with CaptureQueriesContext(connection) as captured:
        assert len(ok(api_client.get("/api/posts/", {"search": "needle"}))["results"]) == 1
    with connection.cursor() as cursor:
        # A table this small is cheapest to scan whole; the question is which index fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = []
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    # The page may walk the list's index newest first and stop at its page; what must not happen
    # is every post's text being read: the matches are found through the GIN index.
    assert any(search.INDEX in plan for plan in plans), plans
    assert all("ILIKE" not in plan and "~~*" not in plan for plan in plans), plans


@pytest.mark.django_db(transaction=True)
def test_the_search_column_follows_search_config(settings):
    """The release step's migrate rebuilds the column when SEARCH_CONFIG changes: `simple` keeps stop
    words and does not stem."""
    try:
        assert search.ensure_search_column(connection, "simple") is True
        assert search.ensure_search_column(connection, "simple") is False  # already built so
        post = PostFactory(live=True, title="The running posts", body="b")
        settings.SEARCH_CONFIG = "simple"
        assert list(search.search(Post.objects.all(), ["the"]).values_list("pk", flat=True)) == [post.pk]
        assert list(search.search(Post.objects.all(), ["run"]).values_list("pk", flat=True)) == []
    finally:
        search.ensure_search_column(connection, "english")


def _published(count, author):
    now = timezone.now()
    Post.objects.bulk_create(
        Post(
            author=author,
            title=f"p{n}",
            body="b",
            published=True,
            published_at=now,
            created_at=now - timezone.timedelta(seconds=n),
        )
        for n in range(count)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE blog_post")  # what autovacuum does: the planner's row estimate


def test_past_the_exact_threshold_the_count_is_an_estimate(api_client, django_assert_num_queries):
    author = UserFactory(password=make_password("x"))
    _published(COUNT_EXACT_MAX + 200, author)
    # The bounded count (stops at COUNT_EXACT_MAX + 1 rows), the planner's estimate, the page.
    with django_assert_num_queries(3):
        body = ok(api_client.get("/api/posts/"))
    assert body["count_exact"] is False
    assert COUNT_EXACT_MAX < body["count"] <= 2 * (COUNT_EXACT_MAX + 200)
    assert len(body["results"]) == 20 and "page=2" in body["next"]
    # Below the threshold the count is exact, and costs no estimate.
    with django_assert_num_queries(2):
        few = ok(api_client.get("/api/posts/", {"search": "p7"}))
    assert (few["count"], few["count_exact"]) == (1, True)


def test_pages_stop_at_the_deepest_row_offered(api_client):
    author = UserFactory()
    _published(COUNT_EXACT_MAX + 100, author)
    page_size = 100
    last = MAX_OFFSET_ROWS // page_size
    # Every page up to the end is served, in order, with exact next links whatever the count says.
    tail = ok(api_client.get("/api/posts/", {"page": 11, "page_size": page_size}))
    assert len(tail["results"]) == 100 and tail["next"] is None
    assert ok(api_client.get("/api/posts/", {"page": 10, "page_size": page_size}))["results"][-1]["title"] == "p999"
    assert api_client.get("/api/posts/", {"page": 12, "page_size": page_size}).status_code == 404
    errors = field_errors(api_client.get("/api/posts/", {"page": last + 1, "page_size": page_size}))
    assert "created_before" in errors["page"][0]
