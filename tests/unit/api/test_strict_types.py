"""The API accepts exactly the JSON types its schema declares (api/serializers.py): a number where
it says string, a string where it says integer, are a 400 naming the field, and nothing is written.
Found by Schemathesis' negative_data_rejection check (tests/system/test_schemathesis.py)."""

import inspect

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

import accounts.serializers
import blog.serializers
from api.serializers import StrictTypesMixin
from tests.support.contract import client_for, field_errors, obtain_tokens, snapshot
from tests.support.factories import TEST_PASSWORD, CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return UserFactory()


@pytest.fixture
def post(author):
    return PostFactory(author=author, live=True)


@pytest.mark.parametrize(
    ("method", "payload", "fields"),
    [
        ("patch", {"title": "0", "body": 0}, {"body"}),  # the case reported: 0 was stored as "0"
        ("patch", {"title": 1.5}, {"title"}),
        ("patch", {"title": True}, {"title"}),
        ("put", {"title": ["a"], "body": {"b": 1}}, {"title", "body"}),
        ("patch", {"title": 0, "body": ""}, {"title", "body"}),  # the type error beside the others
    ],
)
def test_a_post_field_of_the_wrong_json_type_is_400_naming_it(author, post, method, payload, fields):
    before = snapshot()
    response = getattr(client_for(author), method)(f"/api/posts/{post.pk}/", payload, format="json")
    assert set(field_errors(response)) == fields
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/posts/", {"title": 0, "body": "b"}, "title"),
        ("/api/posts/{post}/comments/", {"body": 0}, "body"),
        ("/api/subscriptions/", {"author": "{other}"}, "author"),  # an id, but as a string
        ("/api/subscriptions/", {"author": True}, "author"),
    ],
)
def test_creating_with_the_wrong_json_type_is_400_naming_it(author, post, path, payload, field):
    other = UserFactory()
    payload = {key: value.format(other=other.pk) if isinstance(value, str) else value for key, value in payload.items()}
    client = client_for(UserFactory())
    before = snapshot()
    response = client.post(path.format(post=post.pk), payload, format="json")
    assert set(field_errors(response)) == {field}
    assert snapshot() == before


def test_comment_edit_with_the_wrong_json_type_is_400(author, post):
    comment = CommentFactory(post=post, author=author)
    response = client_for(author).patch(f"/api/posts/{post.pk}/comments/{comment.pk}/", {"body": 7}, format="json")
    assert set(field_errors(response)) == {"body"}


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/auth/register/", {"username": 12345, "password": TEST_PASSWORD}, "username"),
        ("/api/auth/register/", {"username": "ok-name", "password": 12345678901}, "password"),
        ("/api/auth/token/", {"username": 0, "password": TEST_PASSWORD}, "username"),
        ("/api/auth/token/refresh/", {"refresh": 0}, "refresh"),
        ("/api/auth/token/verify/", {"token": 0}, "token"),
    ],
)
def test_auth_fields_of_the_wrong_json_type_are_400_naming_them(path, payload, field):
    before = snapshot()
    assert set(field_errors(APIClient().post(path, payload, format="json"))) == {field}
    assert snapshot() == before


def test_logout_with_a_refresh_token_that_is_not_a_string_is_400(author):
    tokens = obtain_tokens(author.username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert set(field_errors(client.post("/api/auth/logout/", {"refresh": 1}, format="json"))) == {"refresh"}


def test_null_is_left_to_the_field(author, post):
    # `title` may not be null: DRF's own message, under the field.
    response = client_for(author).patch(f"/api/posts/{post.pk}/", {"title": None}, format="json")
    assert field_errors(response) == {"title": ["This field may not be null."]}


def test_every_request_serializer_of_the_project_is_strict():
    """A new serializer must derive from api.serializers' bases (or mix StrictTypesMixin in)."""
    classes = [
        cls
        for module in (accounts.serializers, blog.serializers)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, serializers.BaseSerializer) and cls.__module__ == module.__name__
    ]
    assert classes
    assert [cls.__name__ for cls in classes if not issubclass(cls, StrictTypesMixin)] == []
