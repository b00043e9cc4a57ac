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


def test_the_newest_published_first_reads_its_index_past_no_draft(auth_client, user):
    """`ordering=-published_at` signed in (own drafts included): the page's keys come from
    post_published_order_idx in order, published posts first and drafts last (nulls last), so
    the first page never reads past a writer's drafts, however many there are."""
    postgres_url()
    now = timezone.now()
    for n in range(40):  # drafts first in creation order: a NULLS FIRST order would read them all
        PostFactory(author=user, live=n >= 20, created_at=now - timezone.timedelta(minutes=n))
    with CaptureQueriesContext(connection) as captured:
        body = ok(auth_client.get("/api/posts/", {"ordering": "-published_at", "page_size": 5}))
    assert all(post["published"] for post in body["results"])
    page_sql = captured.captured_queries[-1]["sql"]

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {page_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "post_published_order_idx" in plan, plan
    sorts = [int(m) for m in re.findall(r"Sort  \(cost=\S+ rows=(\d+)", plan)]
    assert all(rows <= 6 for rows in sorts), plan
