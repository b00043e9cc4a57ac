"""The query budget of every list and of the post detail, and the hand-written post serializer.

Exact query counts: a page costs the same number of queries whatever its size and whatever the
rows hold (comments, distinct authors), so an N+1 regression fails here. The budget of a request
is its own queries plus, for a real JWT, the one that loads the user; force_authenticate costs none.
"""

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from blog import selectors
from blog.models import Comment, Notification, Post, Subscription
from blog.serializers import PostSerializer
from tests.support.contract import bearer, obtain_tokens, ok
from tests.support.factories import TEST_PASSWORD, PostFactory

pytestmark = pytest.mark.django_db

POSTS = 105  # more than the largest page
COMMENTS_PER_POST = 3


def make_users(count, prefix):
    from django.contrib.auth import get_user_model

    password = make_password(TEST_PASSWORD)
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com", password=password) for n in range(count)]
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("pk"))


@pytest.fixture
def crowd(user):
    """POSTS published posts, each by a distinct author, each with comments by distinct commenters,
    plus two old drafts of `user` (visible to them only)."""
    authors = make_users(POSTS, "author")
    now = timezone.now()
    Post.objects.bulk_create(
        [
            Post(
                author=author,
                title=f"Post {n}",
                body="body",
                published=True,
                published_at=now,
                created_at=now - timezone.timedelta(minutes=n),
            )
            for n, author in enumerate(authors)
        ]
    )
    posts = list(Post.objects.order_by("pk"))
    Comment.objects.bulk_create(
        [
            Comment(post=post, author=authors[(n + k + 1) % POSTS], body=f"comment {k}")
            for n, post in enumerate(posts)
            for k in range(COMMENTS_PER_POST)
        ]
    )
    # Older than every published post: the pages under test hold published posts only.
    PostFactory.create_batch(2, author=user, created_at=now - timezone.timedelta(days=365))
    return posts


def client_as(kind, user):
    """An anonymous client, one signed in by force_authenticate, or one sending a real Bearer JWT."""
    if kind == "anonymous":
        return APIClient()
    if kind == "bearer":
        return bearer(obtain_tokens(user.username)["access"])
    client = APIClient()
    client.force_authenticate(user=user)
    return client


# The user lookup a real JWT costs on every request.
AUTH_QUERIES = {"anonymous": 0, "force_authenticate": 0, "bearer": 1}
CLIENTS = list(AUTH_QUERIES)


# --- posts -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("page_size", [1, 20, 100, None])
def test_post_list_is_two_queries_whatever_the_page_size(crowd, user, django_assert_num_queries, kind, page_size):
    client = client_as(kind, user)
    params = {"page_size": page_size} if page_size else {}
    with django_assert_num_queries(2 + AUTH_QUERIES[kind]):  # COUNT(*), then the page with authors and counts
        body = ok(client.get("/api/posts/", params))
    assert len(body["results"]) == (page_size or 20)
    assert len({post["author"] for post in body["results"]}) == len(body["results"])  # distinct authors
    assert all(post["comment_count"] == COMMENTS_PER_POST for post in body["results"])
    assert body["count"] == POSTS + (2 if kind != "anonymous" else 0)


@pytest.mark.parametrize("kind", CLIENTS)
def test_filtered_searched_ordered_post_list_keeps_the_budget(crowd, user, django_assert_num_queries, kind):
    client = client_as(kind, user)
    params = {"search": "post", "ordering": "-title", "published": "true", "created_after": "2000-01-01T00:00:00Z"}
    with django_assert_num_queries(2 + AUTH_QUERIES[kind]):
        body = ok(client.get("/api/posts/", {**params, "page_size": 50}))
    assert len(body["results"]) == 50


@pytest.mark.parametrize("kind", CLIENTS)
def test_post_detail_is_one_query(crowd, user, django_assert_num_queries, kind):
    client = client_as(kind, user)
    post = crowd[0]
    with django_assert_num_queries(1 + AUTH_QUERIES[kind]):
        body = ok(client.get(f"/api/posts/{post.pk}/"))
    assert body["comment_count"] == COMMENTS_PER_POST
    assert body["author_username"] == post.author.username


def test_post_create_and_publish_budgets(user, django_assert_num_queries):
    """Writes stay small too: an insert; a locked read and an update for the publish."""
    client = client_as("force_authenticate", user)
    with django_assert_num_queries(1):
        created = ok(client.post("/api/posts/", {"title": "t", "body": "b"}, format="json"), 201)
    # Loading the post, then in one transaction: lock it and update it. Inside the test's own
    # transaction that transaction is a savepoint pair, counted here (BEGIN/COMMIT are not).
    with django_assert_num_queries(5):
        ok(client.post(f"/api/posts/{created['id']}/publish/"))


# --- comments ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("comments", [1, 30])
def test_comment_list_is_three_queries_whatever_the_number_of_comments(user, django_assert_num_queries, kind, comments):
    post = PostFactory(live=True)
    commenters = make_users(comments, "commenter")
    Comment.objects.bulk_create([Comment(post=post, author=commenter, body="c") for commenter in commenters])
    client = client_as(kind, user)
    with django_assert_num_queries(3 + AUTH_QUERIES[kind]):  # the post (visibility), COUNT(*), the page
        body = ok(client.get(f"/api/posts/{post.pk}/comments/", {"page_size": 100}))
    assert len(body["results"]) == comments
    assert {comment["author_username"] for comment in body["results"]} == {c.username for c in commenters}


# --- subscriptions and notifications -----------------------------------------------------
@pytest.mark.parametrize("kind", ["force_authenticate", "bearer"])
@pytest.mark.parametrize("count", [1, 30])
def test_subscription_list_is_two_queries_whatever_the_number(user, django_assert_num_queries, kind, count):
    authors = make_users(count, "followed")
    Subscription.objects.bulk_create([Subscription(subscriber=user, author=author) for author in authors])
    client = client_as(kind, user)
    with django_assert_num_queries(2 + AUTH_QUERIES[kind]):
        body = ok(client.get("/api/subscriptions/", {"page_size": 100}))
    assert {item["author_username"] for item in body["results"]} == {author.username for author in authors}


@pytest.mark.parametrize("kind", ["force_authenticate", "bearer"])
@pytest.mark.parametrize("count", [1, 30])
def test_notification_list_is_two_queries_whatever_the_number(user, django_assert_num_queries, kind, count):
    authors = make_users(count, "notifier")
    now = timezone.now()
    Post.objects.bulk_create(
        [Post(author=author, title=author.username, body="b", published=True, published_at=now) for author in authors]
    )
    Notification.objects.bulk_create([Notification(recipient=user, post=post) for post in Post.objects.all()])
    client = client_as(kind, user)
    with django_assert_num_queries(2 + AUTH_QUERIES[kind]):
        body = ok(client.get("/api/notifications/", {"page_size": 100}))
    assert {(item["post_title"], item["post_author_username"]) for item in body["results"]} == {
        (author.username, author.username) for author in authors
    }


# --- the hand-written PostSerializer.to_representation -----------------------------------
class GenericPostSerializer(PostSerializer):
    """PostSerializer with DRF's generic to_representation: the reference the fast path must match."""

    def to_representation(self, instance):
        return serializers.ModelSerializer.to_representation(self, instance)


@pytest.fixture
def sample_posts(user):
    """A draft, a published post with comments, and one whose timestamps have no microseconds."""
    draft = PostFactory(author=user)
    published = PostFactory(author=user, live=True)
    Comment.objects.bulk_create([Comment(post=published, author=user, body="c") for _ in range(2)])
    whole_seconds = timezone.now().replace(microsecond=0)
    round_post = PostFactory(author=user, live=True, created_at=whole_seconds, published_at=whole_seconds)
    Post.objects.filter(pk=round_post.pk).update(updated_at=whole_seconds)
    return [draft, published, round_post]


# Kathmandu: a non-whole-hour offset; New York: negative, with daylight saving time.
TIME_ZONES = ["UTC", "America/New_York", "Asia/Kathmandu"]


@pytest.mark.parametrize("time_zone", TIME_ZONES)
def test_fast_representation_equals_drfs_generic_one(settings, user, sample_posts, time_zone):
    settings.TIME_ZONE = time_zone
    with timezone.override(time_zone):
        rows = {post.pk: post for post in selectors.post_list(user=user)}
        for post in sample_posts:
            fast = PostSerializer(rows[post.pk]).data
            generic = GenericPostSerializer(rows[post.pk]).data
            assert fast == generic
            assert list(fast) == list(generic)  # same keys in the same order
            assert all(type(fast[key]) is type(generic[key]) for key in fast)
            # The time zone really applies: "Z" under UTC, the zone's offset elsewhere.
            assert fast["created_at"].endswith("Z") == (time_zone == "UTC")
            assert (fast["published_at"] is None) == (post is sample_posts[0])


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Kathmandu"])
def test_api_list_body_equals_drfs_generic_representation(settings, user, sample_posts, time_zone):
    settings.TIME_ZONE = time_zone
    client = client_as("force_authenticate", user)
    results = ok(client.get("/api/posts/"))["results"]
    with timezone.override(time_zone):
        expected = [dict(GenericPostSerializer(post).data) for post in selectors.post_list(user=user)]
    assert results == expected
    assert len(results) == len(sample_posts)


def test_a_new_post_comment_count_is_zero_in_the_create_response(user):
    """perform_create sets comment_count by hand (no annotation on a fresh instance)."""
    body = ok(
        client_as("force_authenticate", user).post("/api/posts/", {"title": "t", "body": "b"}, format="json"), 201
    )
    instance = selectors.post_list(user=user).get(pk=body["id"])
    assert body == dict(GenericPostSerializer(instance).data)
