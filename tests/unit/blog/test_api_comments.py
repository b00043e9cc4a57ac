"""Comments under a post: who can see, write, edit and delete them, and the post's comment_count."""

import pytest
from django.utils import timezone

from blog.models import Comment
from tests.support.contract import (
    COMMENT_FIELDS,
    assert_no_private_data,
    error,
    field_errors,
    ok,
    snapshot,
    unauthorized,
)
from tests.support.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(user):
    return PostFactory(author=user, live=True)


@pytest.fixture
def comment(published, other_user):
    """other_user's comment on user's published post."""
    return CommentFactory(post=published, author=other_user, body="Original comment")


def comments_path(post):
    return f"/api/posts/{post.pk}/comments/"


def comment_path(comment):
    return f"/api/posts/{comment.post_id}/comments/{comment.pk}/"


# --- reading -----------------------------------------------------------------------------
def test_anyone_lists_a_published_posts_comments_oldest_first(api_client, published):
    now = timezone.now()
    newer = CommentFactory(post=published, created_at=now)
    older = CommentFactory(post=published, created_at=now - timezone.timedelta(hours=1))
    CommentFactory()  # on another post
    response = api_client.get(comments_path(published))
    body = ok(response)
    assert set(body) == {"count", "next", "previous", "results"}
    assert [item["id"] for item in body["results"]] == [older.pk, newer.pk]
    first = body["results"][0]
    assert set(first) == COMMENT_FIELDS
    assert (first["post"], first["author"], first["author_username"], first["body"]) == (
        published.pk,
        older.author_id,
        older.author.username,
        older.body,
    )
    assert_no_private_data(response)


def test_retrieve_a_comment(api_client, comment):
    body = ok(api_client.get(comment_path(comment)))
    assert set(body) == COMMENT_FIELDS
    assert body["id"] == comment.pk


def test_a_comment_is_only_found_under_its_own_post(api_client, comment):
    other_post = PostFactory(live=True)
    error(api_client.get(f"/api/posts/{other_post.pk}/comments/{comment.pk}/"), 404)


def test_comments_of_someone_elses_draft_are_404(other_client, api_client, user):
    draft = PostFactory(author=user)
    CommentFactory(post=draft, author=user)
    error(other_client.get(comments_path(draft)), 404)
    error(api_client.get(comments_path(draft)), 404)


def test_comments_of_a_missing_post_are_404(api_client):
    error(api_client.get("/api/posts/999999/comments/"), 404)


def test_comments_paginate(api_client, published):
    CommentFactory.create_batch(3, post=published)
    body = ok(api_client.get(comments_path(published), {"page_size": 2}))
    assert (body["count"], len(body["results"])) == (3, 2)
    assert "page=2" in body["next"]
    error(api_client.get(comments_path(published), {"page": 3, "page_size": 2}), 404)


# --- creating ----------------------------------------------------------------------------
def test_signed_in_user_comments_on_a_published_post(other_client, other_user, published):
    response = other_client.post(comments_path(published), {"body": "Nice post"}, format="json")
    body = ok(response, 201)
    assert set(body) == COMMENT_FIELDS
    assert (body["post"], body["author"], body["author_username"], body["body"]) == (
        published.pk,
        other_user.pk,
        other_user.username,
        "Nice post",
    )
    stored = Comment.objects.get(pk=body["id"])
    assert (stored.post_id, stored.author_id) == (published.pk, other_user.pk)
    assert_no_private_data(response)


def test_author_comments_on_their_own_draft(auth_client, user):
    draft = PostFactory(author=user)
    body = ok(auth_client.post(comments_path(draft), {"body": "note to self"}, format="json"), 201)
    assert body["post"] == draft.pk


def test_comment_on_someone_elses_draft_is_404(other_client, user):
    draft = PostFactory(author=user)
    before = snapshot()
    error(other_client.post(comments_path(draft), {"body": "peek"}, format="json"), 404)
    assert snapshot() == before


def test_anonymous_comment_is_401(api_client, published):
    before = snapshot()
    unauthorized(api_client.post(comments_path(published), {"body": "anon"}, format="json"))
    assert snapshot() == before


def test_comment_ignores_read_only_fields(other_client, other_user, user, published):
    """The post comes from the URL and the author from the credentials, whatever the body says."""
    elsewhere = PostFactory(author=user, live=True)
    payload = {"body": "b", "post": elsewhere.pk, "author": user.pk, "created_at": "2000-01-01T00:00:00Z"}
    body = ok(other_client.post(comments_path(published), payload, format="json"), 201)
    stored = Comment.objects.get(pk=body["id"])
    assert (stored.post_id, stored.author_id, stored.created_at.year) == (
        published.pk,
        other_user.pk,
        timezone.now().year,
    )


@pytest.mark.parametrize("payload", [{}, {"body": ""}])
def test_comment_without_a_body_is_400_naming_it(other_client, published, payload):
    before = snapshot()
    assert set(field_errors(other_client.post(comments_path(published), payload, format="json"))) == {"body"}
    assert snapshot() == before


# --- editing and deleting ----------------------------------------------------------------
COMMENT_WRITES = {
    "put": ("put", {"body": "Replaced"}),
    "patch": ("patch", {"body": "Patched"}),
    "delete": ("delete", None),
}


def write(client, action, comment):
    method, payload = COMMENT_WRITES[action]
    return getattr(client, method)(comment_path(comment), payload, format="json")


@pytest.mark.parametrize("action", COMMENT_WRITES)
def test_anonymous_comment_writes_are_401(api_client, comment, action):
    before = snapshot()
    unauthorized(write(api_client, action, comment))
    assert snapshot() == before


@pytest.mark.parametrize("action", COMMENT_WRITES)
def test_writes_on_someone_elses_comment_are_403(auth_client, comment, action):
    """Even the post's author may not edit or delete a comment by someone else."""
    assert comment.post.author_id != comment.author_id
    before = snapshot()
    error(write(auth_client, action, comment), 403)
    assert snapshot() == before


@pytest.mark.parametrize("action", ["put", "patch"])
def test_comment_author_edits_their_comment(other_client, comment, action):
    body = ok(write(other_client, action, comment))
    expected = COMMENT_WRITES[action][1]["body"]
    assert body["body"] == expected
    comment.refresh_from_db()
    assert comment.body == expected
    assert comment.updated_at > comment.created_at


def test_patch_without_the_body_keeps_the_comment(other_client, auth_client, comment):
    # Found by Schemathesis: a PATCH leaving out `body`, its only field, was a 500.
    body = ok(other_client.patch(comment_path(comment), {}, format="json"))
    assert body["body"] == "Original comment"
    comment.refresh_from_db()
    assert comment.body == "Original comment"
    error(auth_client.patch(comment_path(comment), {}, format="json"), 403)


def test_comment_author_deletes_their_comment(other_client, comment):
    response = write(other_client, "delete", comment)
    assert response.status_code == 204
    assert not Comment.objects.filter(pk=comment.pk).exists()
    error(other_client.get(comment_path(comment)), 404)


def test_comment_edit_cannot_move_it_to_another_post(other_client, comment, user):
    elsewhere = PostFactory(author=user, live=True)
    ok(other_client.patch(comment_path(comment), {"post": elsewhere.pk, "body": "moved?"}, format="json"))
    comment.refresh_from_db()
    assert comment.post_id != elsewhere.pk


# --- comment_count -----------------------------------------------------------------------
def test_comment_count_follows_comments(api_client, other_client, published):
    def count():
        detail = ok(api_client.get(f"/api/posts/{published.pk}/"))["comment_count"]
        listed = next(p for p in ok(api_client.get("/api/posts/"))["results"] if p["id"] == published.pk)
        assert listed["comment_count"] == detail
        return detail

    assert count() == 0
    CommentFactory.create_batch(2, post=published)
    CommentFactory(post=PostFactory(live=True))  # someone else's post: not counted here
    assert count() == 2
    created = ok(other_client.post(comments_path(published), {"body": "third"}, format="json"), 201)
    assert count() == 3
    assert other_client.delete(f"{comments_path(published)}{created['id']}/").status_code == 204
    assert count() == 2


def test_deleting_a_post_deletes_its_comments(auth_client, comment):
    assert auth_client.delete(f"/api/posts/{comment.post_id}/").status_code == 204
    assert not Comment.objects.filter(pk=comment.pk).exists()
