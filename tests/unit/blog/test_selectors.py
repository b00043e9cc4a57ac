"""Selectors, called directly: who sees what, and what each row carries (and does not)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from blog import selectors
from tests.support.factories import CommentFactory, NotificationFactory, PostFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts(user, other_user):
    return {
        "mine_live": PostFactory(author=user, live=True),
        "mine_draft": PostFactory(author=user),
        "theirs_live": PostFactory(author=other_user, live=True),
        "theirs_draft": PostFactory(author=other_user),
    }


def visible(user):
    return {post.pk for post in selectors.post_list(user=user)}


def test_post_list_for_nobody_is_the_published_posts(posts):
    expected = {posts["mine_live"].pk, posts["theirs_live"].pk}
    assert visible(None) == expected
    assert visible(AnonymousUser()) == expected


def test_post_list_adds_only_your_own_drafts(posts, user, other_user):
    assert visible(user) == {posts["mine_live"].pk, posts["mine_draft"].pk, posts["theirs_live"].pk}
    assert visible(other_user) == {posts["mine_live"].pk, posts["theirs_live"].pk, posts["theirs_draft"].pk}


def test_post_list_counts_comments_per_post(posts):
    CommentFactory.create_batch(3, post=posts["mine_live"])
    CommentFactory(post=posts["theirs_live"])
    counts = {post.pk: post.comment_count for post in selectors.post_list(user=None)}
    assert counts == {posts["mine_live"].pk: 3, posts["theirs_live"].pk: 1}


def test_post_list_counts_zero_not_null(user):
    PostFactory(author=user, live=True)
    assert [post.comment_count for post in selectors.post_list(user=None)] == [0]


def test_post_list_loads_the_authors_name_but_never_the_password_hash(posts, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(selectors.post_list(user=None))
        assert {row.author.username for row in rows} == {
            posts["mine_live"].author.username,
            posts["theirs_live"].author.username,
        }
    assert "password" in rows[0].author.get_deferred_fields()
    assert "email" in rows[0].author.get_deferred_fields()


def test_comment_list_is_the_posts_comments_oldest_first(django_assert_num_queries):
    post = PostFactory(live=True)
    comments = CommentFactory.create_batch(3, post=post)
    CommentFactory()
    with django_assert_num_queries(1):  # authors joined
        rows = list(selectors.comment_list(post=post))
        assert [row.author.username for row in rows] == [c.author.username for c in comments]
    assert [row.pk for row in rows] == [c.pk for c in comments]


def test_subscription_list_is_your_own_newest_first(user, other_user, django_assert_num_queries):
    first, second = SubscriptionFactory(subscriber=user), SubscriptionFactory(subscriber=user)
    SubscriptionFactory(subscriber=other_user)
    SubscriptionFactory(author=user)
    with django_assert_num_queries(1):
        rows = list(selectors.subscription_list(user=user))
        assert [row.author.username for row in rows] == [second.author.username, first.author.username]


def test_notification_list_is_your_own_newest_first(user, other_user, django_assert_num_queries):
    first, second = NotificationFactory(recipient=user), NotificationFactory(recipient=user)
    NotificationFactory(recipient=other_user)
    with django_assert_num_queries(1):  # post and its author joined
        rows = list(selectors.notification_list(user=user))
        assert [(row.post.title, row.post.author.username) for row in rows] == [
            (second.post.title, second.post.author.username),
            (first.post.title, first.post.author.username),
        ]


def test_subscriber_ids(user, other_user):
    SubscriptionFactory(subscriber=other_user, author=user)
    SubscriptionFactory(author=other_user)
    assert selectors.subscriber_ids(author_id=user.pk) == [other_user.pk]
    assert selectors.subscriber_ids(author_id=other_user.pk + 1000) == []


def test_subscriber_ids_followed_by_a_moment_leaves_out_later_followers(user, other_user):
    earlier = SubscriptionFactory(subscriber=other_user, author=user)
    later = SubscriptionFactory(author=user, created_at=earlier.created_at + timedelta(seconds=1))
    assert selectors.subscriber_ids(author_id=user.pk, followed_by=earlier.created_at) == [other_user.pk]
    assert sorted(selectors.subscriber_ids(author_id=user.pk, followed_by=later.created_at)) == sorted(
        [other_user.pk, later.subscriber_id]
    )
