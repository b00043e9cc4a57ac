"""Indexes on Postgres: EXPLAIN shows the queries the API runs read the index made for them."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.contract import ok
from tests.support.external import postgres_url
from tests.support.factories import PostFactory

pytestmark = pytest.mark.django_db


def test_the_public_list_and_its_count_read_the_partial_index_in_list_order(api_client):
    """On Postgres, the anonymous list's page and count read post_public_list_idx: published rows
    only, already in the list's order (no Sort of them), so a writer's many drafts are never read past."""
    postgres_url()
    author = PostFactory().author
    for n in range(40):  # published posts and drafts interleaved, newest first
        PostFactory(author=author, live=n % 2 == 0, created_at=timezone.now() - timezone.timedelta(minutes=n))
    with CaptureQueriesContext(connection) as captured:
        ok(api_client.get("/api/posts/", {"page_size": 5}))
    count_sql, page_sql = (query["sql"] for query in captured.captured_queries)

    with connection.cursor() as cursor:
        # A table this small is cheapest to scan whole; the question is which index fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = {}
        for name, sql in (("count", count_sql), ("page", page_sql)):
            cursor.execute(f"EXPLAIN {sql}")
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())

    assert "post_public_list_idx" in plans["count"], plans["count"]
    assert "post_public_list_idx" in plans["page"], plans["page"]
    # The page's keys come from the index in list order (a Limit over it, no Sort of the published
    # posts); only the page's own rows (page_size + 1, fetched to know of a next page) are sorted.
    sorts = [int(m) for m in re.findall(r"Sort  \(cost=\S+ rows=(\d+)", plans["page"])]
    assert all(rows <= 6 for rows in sorts), plans["page"]
