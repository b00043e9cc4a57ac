"""The posts API as README "## The API" promises it: response shape, lifecycle, who may write
what, and listing (visibility, filters, search, ordering, pagination).

Malformed and hostile input lives in test_hostile_input.py; this module covers the normal contract.
"""

from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_offset

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APITestCase

from api.filters import SEARCH_MAX_LENGTH, SEARCH_MAX_TERMS
from blog.models import Post
from tests.support.contract import (
    POST_FIELDS,
    assert_no_private_data,
    bearer,
    error,
    error_message,
    field_errors,
    obtain_tokens,
    ok,
    snapshot,
    unauthorized,
)
from tests.support.factories import (
    TEST_PASSWORD,
    CommentFactory,
    NotificationFactory,
    PostFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(user):
    return PostFactory(author=user, live=True, title="Published title", body="Published body")


@pytest.fixture
def draft(user):
    return PostFactory(author=user, title="Draft title", body="Draft body")


def ids(body):
    return [post["id"] for post in body["results"]]


# --- response shape ----------------------------------------------------------------------
def test_create_returns_201_with_exactly_the_documented_fields(auth_client, user):
    response = auth_client.post("/api/posts/", {"title": "Hello", "body": "World"}, format="json")
    body = ok(response, 201)
    assert set(body) == POST_FIELDS
    assert body["author"] == user.pk
    assert body["author_username"] == user.username
    assert (body["title"], body["body"]) == ("Hello", "World")
    assert body["published"] is False
    assert body["published_at"] is None
    assert body["comment_count"] == 0
    created = Post.objects.get(pk=body["id"])
    assert created.author == user
    assert not created.published
    # Timestamps are ISO 8601 in UTC, written with "Z" like DRF does.
    for name in ("created_at", "updated_at"):
        assert body[name].endswith("Z"), body[name]
        assert abs(parse_datetime(body[name]) - timezone.now()) < timedelta(minutes=1)
    assert_no_private_data(response)


def test_create_ignores_read_only_fields(auth_client, user, other_user):
    """A client cannot create a post as someone else, already published, or with a forged count."""
    payload = {
        "title": "Sneaky",
        "body": "Body",
        "author": other_user.pk,
        "published": True,
        "published_at": "2020-01-01T00:00:00Z",
        "comment_count": 99,
        "created_at": "2000-01-01T00:00:00Z",
    }
    body = ok(auth_client.post("/api/posts/", payload, format="json"), 201)
    created = Post.objects.get(pk=body["id"])
    assert (created.author_id, created.published, created.published_at) == (user.pk, False, None)
    assert created.created_at.year == timezone.now().year
    assert body["comment_count"] == 0


@pytest.mark.parametrize("missing", ["title", "body"])
def test_create_without_a_required_field_is_400_naming_it(auth_client, missing):
    payload = {"title": "Title", "body": "Body"}
    del payload[missing]
    before = snapshot()
    assert set(field_errors(auth_client.post("/api/posts/", payload, format="json"))) == {missing}
    assert snapshot() == before


def test_title_is_trimmed(auth_client):
    body = ok(auth_client.post("/api/posts/", {"title": "  Spaced  ", "body": "b"}, format="json"), 201)
    assert body["title"] == "Spaced"


def test_responses_never_carry_private_data(auth_client, user, other_user, published):
    """Emails and password hashes appear nowhere but in /api/me/, and there only the requester's own."""
    comment = CommentFactory(post=published, author=other_user)
    SubscriptionFactory(subscriber=user, author=other_user)
    notification = NotificationFactory(recipient=user, post=PostFactory(author=other_user, live=True))
    for path in (
        "/api/posts/",
        f"/api/posts/{published.pk}/",
        f"/api/posts/{published.pk}/comments/",
        f"/api/posts/{published.pk}/comments/{comment.pk}/",
        "/api/subscriptions/",
        "/api/notifications/",
        f"/api/notifications/{notification.pk}/",
    ):
        response = auth_client.get(path)
        ok(response)
        assert_no_private_data(response)
    me = ok(auth_client.get("/api/me/"))
    assert me["email"] == user.email
    assert other_user.email not in str(me)
    assert not {key for key in me if "password" in key}


# --- lifecycle ---------------------------------------------------------------------------
def test_lifecycle_create_read_publish_delete(auth_client, other_client, api_client):
    created = ok(auth_client.post("/api/posts/", {"title": "Life", "body": "Cycle"}, format="json"), 201)
    path = f"/api/posts/{created['id']}/"

    # A draft: its author sees it, nobody else learns it exists.
    assert ok(auth_client.get(path)) == created
    error(other_client.get(path), 404)
    error(api_client.get(path), 404)
    assert created["id"] not in ids(ok(api_client.get("/api/posts/")))
    assert created["id"] in ids(ok(auth_client.get("/api/posts/")))

    published = ok(auth_client.post(f"{path}publish/"))
    assert published["published"] is True
    assert parse_datetime(published["published_at"]) is not None
    assert {
        key: value for key, value in published.items() if key not in ("published", "published_at", "updated_at")
    } == {key: value for key, value in created.items() if key not in ("published", "published_at", "updated_at")}

    # Published: anyone reads it, in the detail and in the list.
    assert ok(other_client.get(path))["published"] is True
    assert ok(api_client.get(path))["published_at"] == published["published_at"]
    assert created["id"] in ids(ok(api_client.get("/api/posts/")))

    response = auth_client.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    assert not Post.objects.filter(pk=created["id"]).exists()
    error(auth_client.get(path), 404)
    error(api_client.get(path), 404)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class PostLifecycleWithRealTokensTests(APITestCase):
    """The same lifecycle as a client really runs it: register, obtain a JWT, send it as a Bearer header."""

    def setUp(self):
        for username in ("writer", "reader"):
            response = self.client.post(
                "/api/auth/register/", {"username": username, "password": TEST_PASSWORD}, format="json"
            )
            self.assertEqual(response.status_code, 201, response.content)

    def sign_in(self, username):
        response = self.client.post("/api/auth/token/", {"username": username, "password": TEST_PASSWORD})
        self.assertEqual(response.status_code, 200, response.content)
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")

    def test_write_publish_read_delete(self):
        self.sign_in("writer")
        response = self.client.post("/api/posts/", {"title": "Bearer", "body": "Token"})
        self.assertEqual(response.status_code, 201, response.content)
        post_id = response.json()["id"]
        self.assertEqual(response.json()["author_username"], "writer")

        self.sign_in("reader")
        self.assertEqual(self.client.get(f"/api/posts/{post_id}/").status_code, 404)
        self.assertEqual(self.client.patch(f"/api/posts/{post_id}/", {"title": "Mine now"}).status_code, 404)

        self.sign_in("writer")
        response = self.client.post(f"/api/posts/{post_id}/publish/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response.json()["published"])

        self.sign_in("reader")
        self.assertEqual(self.client.get(f"/api/posts/{post_id}/").json()["title"], "Bearer")
        self.assertEqual(self.client.delete(f"/api/posts/{post_id}/").status_code, 403)

        self.client.credentials()
        response = self.client.delete(f"/api/posts/{post_id}/")
        self.assertEqual(response.status_code, 401)
        self.assertTrue(response["WWW-Authenticate"].startswith("Bearer"))

        self.sign_in("writer")
        self.assertEqual(self.client.delete(f"/api/posts/{post_id}/").status_code, 204)
        self.assertFalse(Post.objects.filter(pk=post_id).exists())


def test_a_real_bearer_token_signs_the_request(user):
    """The Authorization header, not a test shortcut, is what identifies the author."""
    client = bearer(obtain_tokens(user.username)["access"])
    body = ok(client.post("/api/posts/", {"title": "Via JWT", "body": "b"}, format="json"), 201)
    assert body["author"] == user.pk


# --- who may write what ------------------------------------------------------------------
POST_WRITES = {
    "put": ("put", "/api/posts/{id}/", {"title": "Changed", "body": "Changed body"}),
    "patch": ("patch", "/api/posts/{id}/", {"title": "Changed"}),
    "delete": ("delete", "/api/posts/{id}/", None),
    "publish": ("post", "/api/posts/{id}/publish/", None),
}


def write(client, action, post):
    method, path, payload = POST_WRITES[action]
    return getattr(client, method)(path.format(id=post.pk), payload, format="json")


@pytest.mark.parametrize("action", POST_WRITES)
@pytest.mark.parametrize("state", ["published", "draft"])
def test_anonymous_writes_are_401_with_a_bearer_challenge(api_client, action, state, request):
    post = request.getfixturevalue(state)
    before = snapshot()
    unauthorized(write(api_client, action, post))
    assert snapshot() == before


def test_anonymous_create_is_401(api_client):
    before = snapshot()
    unauthorized(api_client.post("/api/posts/", {"title": "t", "body": "b"}, format="json"))
    assert snapshot() == before


@pytest.mark.parametrize("action", POST_WRITES)
def test_other_users_writes_on_a_published_post_are_403(other_client, published, action):
    before = snapshot()
    error(write(other_client, action, published), 403)
    assert snapshot() == before


@pytest.mark.parametrize("action", POST_WRITES)
def test_other_users_writes_on_a_draft_are_404(other_client, draft, action):
    """Someone else's draft does not exist for you: a 404, not a 403 that would reveal it."""
    before = snapshot()
    error(write(other_client, action, draft), 404)
    assert snapshot() == before


@pytest.mark.parametrize("state", ["published", "draft"])
def test_owner_put_replaces_title_and_body(auth_client, state, request):
    post = request.getfixturevalue(state)
    body = ok(write(auth_client, "put", post))
    assert (body["title"], body["body"]) == ("Changed", "Changed body")
    post.refresh_from_db()
    assert (post.title, post.body, post.published) == ("Changed", "Changed body", state == "published")


@pytest.mark.parametrize("state", ["published", "draft"])
def test_owner_patch_changes_only_the_given_field(auth_client, state, request):
    post = request.getfixturevalue(state)
    original_body = post.body
    body = ok(write(auth_client, "patch", post))
    assert (body["title"], body["body"]) == ("Changed", original_body)
    post.refresh_from_db()
    assert (post.title, post.body) == ("Changed", original_body)


def test_owner_update_cannot_touch_read_only_fields(auth_client, draft, other_user):
    payload = {
        "title": "T",
        "body": "B",
        "published": True,
        "author": other_user.pk,
        "published_at": "2020-01-01T00:00Z",
    }
    body = ok(auth_client.put(f"/api/posts/{draft.pk}/", payload, format="json"))
    assert (body["published"], body["published_at"], body["author"]) == (False, None, draft.author_id)
    draft.refresh_from_db()
    assert (draft.published, draft.published_at, draft.author_id) == (False, None, body["author"])


def test_owner_update_bumps_updated_at(auth_client, published):
    Post.objects.filter(pk=published.pk).update(updated_at=timezone.now() - timedelta(days=1))
    body = ok(write(auth_client, "patch", published))
    assert abs(parse_datetime(body["updated_at"]) - timezone.now()) < timedelta(minutes=1)


@pytest.mark.parametrize("state", ["published", "draft"])
def test_owner_delete_is_204(auth_client, state, request):
    post = request.getfixturevalue(state)
    response = write(auth_client, "delete", post)
    assert response.status_code == 204
    assert not Post.objects.filter(pk=post.pk).exists()


def test_owner_publish_sets_published_and_published_at(auth_client, draft):
    body = ok(write(auth_client, "publish", draft))
    assert set(body) == POST_FIELDS
    assert body["published"] is True
    draft.refresh_from_db()
    assert draft.published
    assert parse_datetime(body["published_at"]) == draft.published_at


def test_publishing_again_keeps_the_first_published_at(auth_client, published):
    first = published.published_at
    body = ok(write(auth_client, "publish", published))
    assert parse_datetime(body["published_at"]) == first
    published.refresh_from_db()
    assert published.published_at == first


def test_publish_of_a_missing_post_is_404(auth_client):
    error(auth_client.post("/api/posts/999999/publish/"), 404)


# --- listing: visibility -----------------------------------------------------------------
def test_list_shows_published_posts_and_only_your_own_drafts(api_client, auth_client, other_client, user, other_user):
    mine_live = PostFactory(author=user, live=True)
    mine_draft = PostFactory(author=user)
    theirs_live = PostFactory(author=other_user, live=True)
    theirs_draft = PostFactory(author=other_user)
    assert set(ids(ok(api_client.get("/api/posts/")))) == {mine_live.pk, theirs_live.pk}
    assert set(ids(ok(auth_client.get("/api/posts/")))) == {mine_live.pk, mine_draft.pk, theirs_live.pk}
    assert set(ids(ok(other_client.get("/api/posts/")))) == {mine_live.pk, theirs_live.pk, theirs_draft.pk}


def test_default_order_is_newest_first(api_client):
    now = timezone.now()
    posts = [PostFactory(live=True, created_at=now - timedelta(hours=hours)) for hours in (5, 1, 3)]
    assert ids(ok(api_client.get("/api/posts/"))) == [posts[1].pk, posts[2].pk, posts[0].pk]


# --- filters -----------------------------------------------------------------------------
def test_filter_by_author(api_client, user, other_user):
    mine = PostFactory.create_batch(2, author=user, live=True)
    PostFactory(author=other_user, live=True)
    PostFactory(author=user)  # a draft: still invisible to anonymous
    assert set(ids(ok(api_client.get("/api/posts/", {"author": user.pk})))) == {post.pk for post in mine}


def test_filter_by_an_author_who_never_published_answers_as_an_id_nobody_has(auth_client, user, other_user):
    """`?author=` tells an account that has only drafts, or none, from no account at all by
    nothing: the same empty page, byte for byte."""
    PostFactory(author=other_user)  # a draft, invisible to the requester
    superuser = UserFactory(is_staff=True, is_superuser=True)
    missing = auth_client.get("/api/posts/", {"author": superuser.pk + 1000})
    assert ok(missing)["results"] == []
    for account in (other_user, superuser):
        assert auth_client.get("/api/posts/", {"author": account.pk}).content == missing.content


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_filter_published_true(auth_client, user, other_user, value):
    live = [PostFactory(author=user, live=True), PostFactory(author=other_user, live=True)]
    PostFactory(author=user)
    assert set(ids(ok(auth_client.get("/api/posts/", {"published": value})))) == {post.pk for post in live}


@pytest.mark.parametrize("value", ["false", "False", "0"])
def test_filter_published_false_lists_your_own_drafts(auth_client, api_client, user, other_user, value):
    mine = PostFactory(author=user)
    PostFactory(author=other_user)
    PostFactory(author=user, live=True)
    assert ids(ok(auth_client.get("/api/posts/", {"published": value}))) == [mine.pk]
    assert ok(api_client.get("/api/posts/", {"published": value}))["count"] == 0


def test_filter_by_creation_time_is_inclusive(api_client):
    base = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    early, middle, late = (PostFactory(live=True, created_at=base + timedelta(days=day)) for day in (0, 1, 2))
    after = ok(api_client.get("/api/posts/", {"created_after": "2024-06-02T12:00:00Z"}))
    assert set(ids(after)) == {middle.pk, late.pk}
    before = ok(api_client.get("/api/posts/", {"created_before": "2024-06-02T12:00:00Z"}))
    assert set(ids(before)) == {early.pk, middle.pk}
    both = ok(api_client.get("/api/posts/", {"created_after": "2024-06-01T13:00:00Z", "created_before": "2024-06-03"}))
    assert ids(both) == [middle.pk]


def test_filter_by_creation_time_honours_the_offset(api_client):
    post = PostFactory(live=True, created_at=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
    # 14:00+02:00 is 12:00Z: inclusive on both sides.
    params = {"created_after": "2024-06-01T14:00:00+02:00", "created_before": "2024-06-01T14:00:00+02:00"}
    assert ids(ok(api_client.get("/api/posts/", params))) == [post.pk]
    assert ok(api_client.get("/api/posts/", {"created_after": "2024-06-01T14:00:01+02:00"}))["count"] == 0


@pytest.mark.parametrize("hours,minutes", [(18, 45), (-23, -59), (16, 0)])
def test_filter_by_creation_time_takes_any_iso_8601_offset(api_client, hours, minutes):
    # Found by Schemathesis: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows (a 500).
    post = PostFactory(live=True, created_at=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
    offset = fixed_offset(timedelta(hours=hours, minutes=minutes))
    local = post.created_at.astimezone(offset).isoformat()
    assert ids(ok(api_client.get("/api/posts/", {"created_after": local, "created_before": local}))) == [post.pk]
    later = (post.created_at + timedelta(seconds=1)).astimezone(offset).isoformat()
    assert ok(api_client.get("/api/posts/", {"created_after": later}))["count"] == 0


@pytest.mark.parametrize(
    "params,found",
    [
        ({"created_after": "0001-01-01T00:00:00+01:00"}, True),
        ({"created_before": "0001-01-01T00:00:00+01:00"}, False),
        ({"created_before": "9999-12-31T23:59:59-01:00"}, True),
        ({"created_after": "9999-12-31T23:59:59-01:00"}, False),
    ],
)
def test_filter_bounds_outside_the_datetime_range_in_utc_are_no_error(api_client, published, params, found):
    # The same bug on SQLite: in UTC these fall before year 1 or after 9999 (an OverflowError, a 500).
    assert ids(ok(api_client.get("/api/posts/", params))) == ([published.pk] if found else [])


def test_filters_combine(api_client, user, other_user):
    target = PostFactory(author=user, live=True, title="needle", created_at=datetime(2024, 1, 2, tzinfo=UTC))
    PostFactory(author=other_user, live=True, title="needle", created_at=datetime(2024, 1, 2, tzinfo=UTC))
    PostFactory(author=user, live=True, title="needle", created_at=datetime(2023, 1, 2, tzinfo=UTC))
    PostFactory(author=user, live=True, title="haystack", created_at=datetime(2024, 1, 2, tzinfo=UTC))
    params = {"author": user.pk, "created_after": "2024-01-01T00:00:00Z", "search": "needle", "published": "true"}
    assert ids(ok(api_client.get("/api/posts/", params))) == [target.pk]


@pytest.mark.parametrize(
    "params,fields",
    [
        ({"author": "me"}, {"author"}),
        ({"published": "maybe"}, {"published"}),
        ({"published": "yes"}, {"published"}),
        # Present but empty: the schema's integer, boolean and date-time allow no "" (was "no filter").
        ({"author": ""}, {"author"}),
        ({"published": ""}, {"published"}),
        ({"created_before": ""}, {"created_before"}),
        ({"author": "1.0"}, {"author"}),
        ({"created_after": "yesterday"}, {"created_after"}),
        ({"created_before": "2024-13-01"}, {"created_before"}),
        ({"author": "x", "created_after": "y", "published": "z"}, {"author", "created_after", "published"}),
    ],
)
def test_bad_filter_values_are_400_with_errors_per_field(api_client, published, params, fields):
    assert set(field_errors(api_client.get("/api/posts/", params))) == fields


# --- search ------------------------------------------------------------------------------
def test_search_matches_title_or_body_case_insensitively(api_client):
    in_title = PostFactory(live=True, title="All about Django", body="nothing here")
    in_body = PostFactory(live=True, title="Other", body="Deploying DJANGO anywhere")
    PostFactory(live=True, title="Flask", body="not the one")
    PostFactory(title="Django draft", body="drafts stay hidden")
    assert set(ids(ok(api_client.get("/api/posts/", {"search": "django"})))) == {in_title.pk, in_body.pk}
    assert set(ids(ok(api_client.get("/api/posts/", {"search": "dJaNgO"})))) == {in_title.pk, in_body.pk}


def test_search_needs_every_word(api_client):
    both = PostFactory(live=True, title="Celery tasks", body="with Redis")
    PostFactory(live=True, title="Celery only", body="nothing else")
    assert ids(ok(api_client.get("/api/posts/", {"search": "celery redis"}))) == [both.pk]


def test_search_at_its_caps_is_served(api_client):
    words = [f"w{n}" for n in range(SEARCH_MAX_TERMS)]
    match = PostFactory(live=True, title=" ".join(words[:5]), body=" ".join(words[5:]))
    PostFactory(live=True, title=" ".join(words[:5]), body="half of them")
    assert ids(ok(api_client.get("/api/posts/", {"search": " ".join(words)}))) == [match.pk]
    padded = words[-1] + " " * (SEARCH_MAX_LENGTH - len(words[-1]))  # spaces count, make no term
    assert ids(ok(api_client.get("/api/posts/", {"search": padded}))) == [match.pk]


@pytest.mark.parametrize(
    "search",
    [
        " ".join(f"w{n}" for n in range(SEARCH_MAX_TERMS + 1)),  # one term too many
        ",".join("w" * 3 for _ in range(SEARCH_MAX_TERMS + 1)),  # commas separate terms too
        "w" * (SEARCH_MAX_LENGTH + 1),  # one term, one character too long
        " ".join(["w"] * 1300),  # the hostile probe: 1,300 terms
    ],
    ids=["terms", "comma-terms", "length", "probe"],
)
def test_search_past_its_caps_is_a_400_under_search_before_any_query(api_client, search, django_assert_num_queries):
    """Each term is one more scan of every post's title and body: a search of many terms would hold
    a worker for seconds, so past the caps the request is refused before it reaches the database."""
    with django_assert_num_queries(0):
        messages = field_errors(api_client.get("/api/posts/", {"search": search}))
    assert set(messages) == {"search"}, messages


# --- ordering ----------------------------------------------------------------------------
@pytest.fixture
def ordered_posts():
    """Three published posts whose creation, publication and title orders all differ.

    Titles share their case: case-insensitive collation is the database's business, not the API's.
    """
    base = datetime(2024, 1, 1, tzinfo=UTC)
    day = timedelta(days=1)
    return {
        "b": PostFactory(live=True, title="banana", created_at=base, published_at=base + 3 * day),
        "a": PostFactory(live=True, title="apple", created_at=base + day, published_at=base + day),
        "c": PostFactory(live=True, title="cherry", created_at=base + 2 * day, published_at=base + 2 * day),
    }


@pytest.mark.parametrize(
    "ordering,expected",
    [
        ("created_at", "bac"),
        ("-created_at", "cab"),
        ("published_at", "acb"),
        ("-published_at", "bca"),
        ("title", "abc"),
        ("-title", "cba"),
        ("-published_at,title", "bca"),
    ],
)
def test_ordering(api_client, ordered_posts, ordering, expected):
    body = ok(api_client.get("/api/posts/", {"ordering": ordering}))
    assert ids(body) == [ordered_posts[key].pk for key in expected]


@pytest.mark.parametrize(
    "query",
    [
        "ordering=-published_at&ordering=title",  # what openapi-python-client and openapi-fetch send
        "ordering=-published_at,title",
        "ordering=-published_at,title&ordering=created_at",
    ],
)
def test_ordering_by_several_fields_in_either_form(api_client, ordered_posts, query):
    """Two posts published at one time: the second field decides between them, whichever form sent it."""
    ordered_posts["a"].published_at = ordered_posts["c"].published_at
    ordered_posts["a"].save()
    body = ok(api_client.get(f"/api/posts/?{query}"))
    assert ids(body) == [ordered_posts[key].pk for key in "bac"]


@pytest.mark.parametrize("ordering", ["author", "-body", "title,nope", "", "title,", "?"])
def test_unknown_or_empty_ordering_is_400_naming_it(api_client, ordered_posts, ordering):
    assert set(field_errors(api_client.get("/api/posts/", {"ordering": ordering}))) == {"ordering"}


@pytest.mark.parametrize("ordering", ["-published_at", "published_at"])
def test_the_writers_drafts_come_after_the_published_posts_in_either_published_at_order(auth_client, user, ordering):
    """A draft has no publication date: it is listed after every published post, either way, and
    on Postgres the index for this order reads the published posts first (test_indexes.py)."""
    now = timezone.now()
    older = PostFactory(author=user, live=True, published_at=now - timedelta(hours=2))
    newer = PostFactory(author=user, live=True, published_at=now - timedelta(hours=1))
    drafts = [PostFactory(author=user, created_at=now - timedelta(minutes=m)) for m in (2, 1)]
    published_in_order = [older.pk, newer.pk] if ordering == "published_at" else [newer.pk, older.pk]
    body = ok(auth_client.get("/api/posts/", {"ordering": ordering}))
    assert ids(body) == [*published_in_order, drafts[1].pk, drafts[0].pk]  # drafts newest first


def test_ordering_breaks_ties_by_the_default_order(api_client):
    """Equal sort keys fall back to newest first, so paging through them never repeats or skips a post."""
    now = timezone.now()
    # Without a tie-breaker the database returns equal titles in any order it likes (SQLite: by id).
    posts = [PostFactory(live=True, title="same", created_at=now - timedelta(minutes=4 - m)) for m in range(5)]
    newest_first = [post.pk for post in reversed(posts)]
    pages = [
        ids(ok(api_client.get("/api/posts/", {"ordering": "title", "page_size": 2, "page": page})))
        for page in (1, 2, 3)
    ]
    assert [pk for page in pages for pk in page] == newest_first
    assert ids(ok(api_client.get("/api/posts/", {"ordering": "-title"}))) == newest_first


# --- pagination --------------------------------------------------------------------------
def test_pagination_envelope_and_default_page_size(api_client):
    PostFactory.create_batch(25, live=True)
    first = ok(api_client.get("/api/posts/"))
    assert set(first) == {"count", "count_exact", "next", "previous", "results"}
    assert first["count"] == 25
    assert first["count_exact"] is True
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/posts/?") and "page=2" in first["next"]
    second = ok(api_client.get(first["next"]))
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert second["previous"] is not None
    assert not set(ids(first)) & set(ids(second))
    assert ok(api_client.get(second["previous"])) == first


def test_page_size_is_honoured_and_kept_in_links(api_client):
    PostFactory.create_batch(7, live=True)
    body = ok(api_client.get("/api/posts/", {"page_size": 3, "page": 2}))
    assert len(body["results"]) == 3
    assert "page_size=3" in body["next"] and "page=3" in body["next"]
    assert "page_size=3" in body["previous"]


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "null"},
        {"page_size": "0"},
        {"page_size": "-1"},
        {"page_size": "2.0"},
        {"page_size": ""},
        {"page": "abc"},
        {"page": "0"},
        {"page": "1.5"},
        {"page": "last"},
    ],
)
def test_page_and_page_size_other_than_whole_numbers_from_1_are_400_naming_them(api_client, published, params):
    """The schema says integers of at least 1: the rest is refused, not read as the first page or
    the default size (found by Schemathesis' negative_data_rejection)."""
    assert set(field_errors(api_client.get("/api/posts/", params))) == set(params)
    assert set(field_errors(api_client.get(f"/api/posts/{published.pk}/comments/", params))) == set(params)


def test_page_size_is_capped_at_100(api_client, user):
    now = timezone.now()
    Post.objects.bulk_create(
        [Post(author=user, title=f"p{i}", body="b", published=True, published_at=now) for i in range(105)]
    )
    body = ok(api_client.get("/api/posts/", {"page_size": 1000}))
    assert (body["count"], len(body["results"])) == (105, 100)
    assert ok(api_client.get("/api/posts/", {"page_size": 100}))["results"] == body["results"]


def test_filters_keep_their_parameters_in_page_links(api_client, user):
    PostFactory.create_batch(3, author=user, live=True)
    PostFactory.create_batch(2, live=True)
    body = ok(api_client.get("/api/posts/", {"author": user.pk, "page_size": 2}))
    assert body["count"] == 3
    assert f"author={user.pk}" in body["next"]


def test_page_past_the_end_is_404_json(api_client):
    PostFactory.create_batch(3, live=True)
    error(api_client.get("/api/posts/", {"page": 2}), 404)
    assert len(ok(api_client.get("/api/posts/", {"page": 2, "page_size": 2}))["results"]) == 1
    assert error_message(api_client.get("/api/posts/", {"page": 3, "page_size": 2}), 404)


def test_an_empty_list_is_one_empty_page(api_client):
    assert ok(api_client.get("/api/posts/")) == {
        "count": 0,
        "count_exact": True,
        "next": None,
        "previous": None,
        "results": [],
    }
