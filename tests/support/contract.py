"""Helpers shared by the API contract tests: JSON assertions, DB snapshots, real JWTs."""

import json

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from blog.models import Comment, Notification, Post, Subscription
from tests.support.factories import TEST_PASSWORD

User = get_user_model()

# The fields a post carries in every response, and nothing else.
POST_FIELDS = {
    "id",
    "author",
    "author_username",
    "title",
    "body",
    "published",
    "published_at",
    "comment_count",
    "created_at",
    "updated_at",
}
COMMENT_FIELDS = {"id", "post", "author", "author_username", "body", "created_at", "updated_at"}
SUBSCRIPTION_FIELDS = {"id", "author", "author_username", "created_at"}
NOTIFICATION_FIELDS = {
    "id",
    "post",
    "post_title",
    "post_author",
    "post_author_username",
    "created_at",
    "read",
    "read_at",
}


def ok(response, status=200):
    """The JSON body of a successful response, after checking its status and content type."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


ERROR_TYPES = {"validation_error", "client_error", "server_error"}


def error(response, status):
    """The JSON body of a refused request: the exact status, and the one error shape (api/errors.py,
    docs/api.md): {"type": ..., "errors": [{"code": ..., "detail": ..., "attr": ...}, ...]}."""
    if hasattr(response, "status_code"):  # Django's test client
        actual, content_type, content = response.status_code, response["Content-Type"], response.content
    else:  # tests/support/harness.py, over HTTP
        actual, content_type, content = response.status, response.header("Content-Type") or "", response.body
    assert actual == status, (actual, content[:500])
    assert content_type.startswith("application/json"), content_type
    body = json.loads(content)
    assert_error_shape(body, status)
    return body


def assert_error_shape(body, status):
    """`body` is an error of the one shape, of the type its status implies."""
    assert isinstance(body, dict) and set(body) == {"type", "errors"}, body
    if status >= 500:
        expected = {"server_error"}
    else:
        expected = {"client_error", "validation_error"} if status == 400 else {"client_error"}
    assert body["type"] in expected, (status, body)
    assert isinstance(body["errors"], list) and body["errors"], body
    for item in body["errors"]:
        assert isinstance(item, dict) and set(item) == {"code", "detail", "attr"}, body
        assert isinstance(item["code"], str) and item["code"], body
        assert isinstance(item["detail"], str) and item["detail"], body
        assert item["attr"] is None or isinstance(item["attr"], str), body
    if body["type"] != "validation_error":
        assert len(body["errors"]) == 1 and body["errors"][0]["attr"] is None, body


def field_errors(response, status=400):
    """The messages of a refused request, by the field they name: {"title": ["This field is required."]}.
    A message about no one field is under None (a body that is not JSON, a whole-request check).

    Tests read error bodies through this or `error_message`, never by indexing the body, so the
    error shape has one reader in the tests."""
    body = error(response, status)
    messages = {}
    for item in body["errors"]:
        messages.setdefault(item["attr"], []).append(item["detail"])
    return messages


def error_codes(response, status):
    """The machine-readable codes of a refused request, by the field they name (None for none)."""
    body = error(response, status)
    codes = {}
    for item in body["errors"]:
        codes.setdefault(item["attr"], []).append(item["code"])
    return codes


def error_message(response, status):
    """The one message of a refused request that names no field (a 401, 403, 404, 429...)."""
    body = error(response, status)
    assert len(body["errors"]) == 1 and body["errors"][0]["attr"] is None, body
    return body["errors"][0]["detail"]


def unauthorized(response):
    """401 with the Bearer challenge that tells a client to send a JWT."""
    body = error(response, 401)
    django = hasattr(response, "status_code")
    challenge = response.get("WWW-Authenticate") if django else response.header("WWW-Authenticate")
    assert (challenge or "").startswith("Bearer"), challenge
    return body


def keys(value):
    """Every key of every object nested anywhere in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def assert_no_private_data(response):
    """No email or password field anywhere, and no user's email address or password hash in the bytes."""
    body = json.loads(response.content)
    assert not {key for key in keys(body) if "email" in key or "password" in key}, body
    for email, password in User.objects.values_list("email", "password"):
        if email:
            assert email.encode() not in response.content, email
        assert password.encode() not in response.content


def snapshot():
    """Every row the API can write: a refused request must leave all of it identical."""
    return {
        "users": list(User.objects.order_by("pk").values()),
        "posts": list(Post.objects.order_by("pk").values()),
        "comments": list(Comment.objects.order_by("pk").values()),
        "subscriptions": list(Subscription.objects.order_by("pk").values()),
        "notifications": list(Notification.objects.order_by("pk").values()),
        "outstanding_tokens": list(OutstandingToken.objects.order_by("pk").values_list("jti", flat=True)),
        "blacklisted_tokens": list(BlacklistedToken.objects.order_by("pk").values_list("token_id", flat=True)),
    }


def obtain_tokens(username, password=TEST_PASSWORD):
    """A real access/refresh pair from the token endpoint, as a client gets it."""
    return ok(APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json"))


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def client_for(user) -> APIClient:
    """A client signed in as user without a token round trip (force_authenticate)."""
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def publish(user, post):
    return client_for(user).post(f"/api/posts/{post.id}/publish/")
