"""The read cache of anonymous post reads (blog/read_cache.py), against the real Redis (REDIS_URL).

A hit runs no SQL query; a read after a write never returns the answer from before it; ETag and
If-None-Match give a 304; anonymous answers are public for a short max-age, signed-in ones
private; an unreachable Redis means no cache and no error.
"""

import uuid

import pytest
from rest_framework.test import APIClient

from blog import read_cache
from blog.models import Post
from tests.support.contract import bearer, obtain_tokens, ok
from tests.support.external import free_port, redis_url
from tests.support.factories import CommentFactory, PostFactory


@pytest.fixture
def read_cache_on(settings, monkeypatch):
    settings.READ_CACHE_ENABLED = True
    settings.READ_CACHE_URL = redis_url()
    settings.READ_CACHE_MAX_AGE = 7
    monkeypatch.setattr(read_cache, "_down_until", 0.0)
    # A version of this test's own: writes by other processes sharing this Redis (another xdist
    # worker, a live server of the system tests) must not turn this test's hits into misses.
    monkeypatch.setattr(read_cache, "VERSION_KEY", f"reads:version:test:{uuid.uuid4().hex}")
    read_cache._change_version()  # nothing cached by another test is current
    return settings


@pytest.fixture
def anonymous():
    return APIClient()


def signed_in(user):
    return bearer(obtain_tokens(user.username)["access"])


@pytest.mark.django_db
def test_an_anonymous_hit_runs_no_sql_query(read_cache_on, anonymous, user, django_assert_num_queries):
    post = PostFactory(author=user, live=True)
    CommentFactory.create_batch(2, post=post)
    for path in ("/api/posts/", f"/api/posts/{post.pk}/", "/api/posts/?search=anything&ordering=-rank"):
        first = anonymous.get(path)
        with django_assert_num_queries(0):
            second = anonymous.get(path)
        assert ok(second) == ok(first)
        assert second["ETag"] == first["ETag"]
    assert ok(anonymous.get(f"/api/posts/{post.pk}/"))["comment_count"] == 2


@pytest.mark.django_db
def test_if_none_match_answers_304_without_a_query(read_cache_on, anonymous, user, django_assert_num_queries):
    PostFactory(author=user, live=True)
    first = anonymous.get("/api/posts/")
    etag = first["ETag"]
    assert etag.startswith('"') and first["Cache-Control"] == "public, max-age=7"
    with django_assert_num_queries(0):
        again = anonymous.get("/api/posts/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert (again["ETag"], again["Cache-Control"]) == (etag, "public, max-age=7")
    # A write changes the answer: the old tag no longer matches.
    PostFactory(author=user, live=True)
    changed = anonymous.get("/api/posts/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


@pytest.mark.django_db
def test_signed_in_reads_are_private_and_never_served_from_the_cache(read_cache_on, anonymous, user):
    PostFactory(author=user, live=True)
    draft = PostFactory(author=user)
    public = anonymous.get("/api/posts/")
    assert "Accept" in public["Vary"] and "Authorization" in public["Vary"]
    assert draft.pk not in [item["id"] for item in ok(public)["results"]]
    mine = signed_in(user).get("/api/posts/")
    assert draft.pk in [item["id"] for item in ok(mine)["results"]]
    assert mine["Cache-Control"] == "private, no-store"
    assert "ETag" not in mine
    assert ok(signed_in(user).get(f"/api/posts/{draft.pk}/"))["id"] == draft.pk
    assert anonymous.get(f"/api/posts/{draft.pk}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_read_after_a_write_never_sees_the_old_answer(read_cache_on, anonymous, user, other_user):
    """Writes through the API (real commits, real on-commit callbacks), each followed by anonymous
    reads of the list and the detail: every read reflects the write before it."""
    author, commenter = signed_in(user), signed_in(other_user)
    post_id = ok(author.post("/api/posts/", {"title": "t0", "body": "b"}, format="json"), 201)["id"]
    assert anonymous.get(f"/api/posts/{post_id}/").status_code == 404  # a draft, cached as nothing
    ok(author.post(f"/api/posts/{post_id}/publish/"))
    comments = []
    for round_ in range(1, 16):
        ok(author.patch(f"/api/posts/{post_id}/", {"title": f"t{round_}"}, format="json"))
        listed = ok(anonymous.get("/api/posts/"))["results"]
        assert [(item["id"], item["title"]) for item in listed] == [(post_id, f"t{round_}")]
        comments.append(ok(commenter.post(f"/api/posts/{post_id}/comments/", {"body": "c"}, format="json"), 201)["id"])
        if round_ % 3 == 0:
            assert commenter.delete(f"/api/posts/{post_id}/comments/{comments.pop(0)}/").status_code == 204
        detail = ok(anonymous.get(f"/api/posts/{post_id}/"))
        assert (detail["title"], detail["comment_count"]) == (f"t{round_}", len(comments))
        assert ok(anonymous.get("/api/posts/"))["results"][0]["comment_count"] == len(comments)
    assert author.delete(f"/api/posts/{post_id}/").status_code == 204
    assert anonymous.get(f"/api/posts/{post_id}/").status_code == 404
    assert ok(anonymous.get("/api/posts/"))["count"] == 0


@pytest.mark.django_db
def test_an_answer_stored_late_by_a_reader_of_an_old_version_is_never_served(read_cache_on, anonymous, user):
    """A reader that read the version before a write may store its answer after the write: the
    entry carries the version it was computed under, and is served only while that version is current."""
    post = PostFactory(author=user, live=True, title="before")
    assert ok(anonymous.get("/api/posts/"))["results"][0]["title"] == "before"
    redis_client = read_cache._client()
    [key] = redis_client.keys(f"{read_cache.VERSION_KEY}:entry:*")
    from_before = redis_client.hgetall(key)
    post.title = "after"
    post.save()
    assert ok(anonymous.get("/api/posts/"))["results"][0]["title"] == "after"
    redis_client.hset(key, mapping=from_before)  # the late reader's store
    assert ok(anonymous.get("/api/posts/"))["results"][0]["title"] == "after"


@pytest.mark.django_db
def test_a_changed_author_name_is_not_served_stale(read_cache_on, anonymous, user):
    post = PostFactory(author=user, live=True)
    assert ok(anonymous.get(f"/api/posts/{post.pk}/"))["author_username"] == user.username
    user.username = "renamed"
    user.save()
    assert ok(anonymous.get(f"/api/posts/{post.pk}/"))["author_username"] == "renamed"


@pytest.mark.django_db
def test_redis_down_means_no_cache_and_no_error(settings, monkeypatch, anonymous, user, django_assert_num_queries):
    settings.READ_CACHE_ENABLED = True
    settings.READ_CACHE_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    monkeypatch.setattr(read_cache, "RETRY_AFTER_SECONDS", 0.0)
    author = signed_in(user)
    created = ok(author.post("/api/posts/", {"title": "while redis is down", "body": "b"}, format="json"), 201)
    ok(author.post(f"/api/posts/{created['id']}/publish/"))
    for _ in range(2):
        with django_assert_num_queries(2):  # the database answers every time: the count and the page
            listed = anonymous.get("/api/posts/")
        assert [item["id"] for item in ok(listed)["results"]] == [created["id"]]
    assert ok(anonymous.get(f"/api/posts/{created['id']}/"))["title"] == "while redis is down"
    assert Post.objects.count() == 1


@pytest.mark.django_db
def test_cache_hits_count_against_the_anonymous_rate(read_cache_on, monkeypatch, anonymous, user):
    """A hit skips the view, not the throttle: past the anon rate the view answers the 429."""
    from rest_framework.throttling import SimpleRateThrottle

    rates = {"anon": "3/min", "user": "100/min", "auth": "10/min"}
    read_cache_on.REST_FRAMEWORK = {**read_cache_on.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    PostFactory(author=user, live=True)
    statuses = [anonymous.get("/api/posts/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert int(anonymous.get("/api/posts/")["Retry-After"]) > 0


@pytest.mark.django_db
def test_each_host_and_scheme_has_its_own_entries(read_cache_on, anonymous, user):
    """The list's links are absolute: an answer built for one host is never served to another."""
    read_cache_on.ALLOWED_HOSTS = ["testserver", "blog.example"]
    PostFactory.create_batch(21, author=user, live=True)
    assert ok(anonymous.get("/api/posts/"))["next"].startswith("http://testserver/")
    assert ok(anonymous.get("/api/posts/", HTTP_HOST="blog.example"))["next"].startswith("http://blog.example/")
    assert ok(anonymous.get("/api/posts/", secure=True))["next"].startswith("https://testserver/")
    assert anonymous.get("/api/posts/", HTTP_HOST="evil.example").status_code == 400
