"""A client's whole session through the Python client openapi-python-client generates from
schema.snapshot.yaml: two users register and sign in, one writes and publishes a post, the
other follows, comments and gets the notification; tokens are refreshed and revoked; and the
errors a client must handle (400, 401, 403, 404, 429) arrive as the typed error models.

Not a test module: tests/system/test_typed_clients.py copies this file next to the generated
package `blog_api_client`, type-checks it with `mypy --strict`, then runs it against a live server:

    python flow.py http://127.0.0.1:8000

It prints one line per step and exits non-zero at the first surprise.

Every generated name the flow uses (operations, models) is imported once, in the block below,
under the name the flow calls it by: when the schema renames an operation or a model, only that
block changes. Reading an error body goes through `field_errors` and `error_text` alone.
"""

import sys
import uuid
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, Protocol

# --- The generated names: the one place that follows the schema's operation ids and models -------
from blog_api_client import AuthenticatedClient, Client
from blog_api_client.api.auth import auth_me as me
from blog_api_client.api.auth import auth_refresh, auth_register, auth_sign_in
from blog_api_client.api.auth import auth_sign_out as auth_logout
from blog_api_client.api.comments import posts_comments_create as comments_create
from blog_api_client.api.comments import posts_comments_list as comments_list
from blog_api_client.api.notifications import notifications_list
from blog_api_client.api.posts import (
    posts_create,
    posts_list,
    posts_partial_update,
    posts_publish,
    posts_retrieve,
)
from blog_api_client.api.subscriptions import subscriptions_create
from blog_api_client.models import (
    Comment,
    CommentRequest,
    LogoutRequest,
    PaginatedCommentList,
    PaginatedNotificationList,
    PaginatedPostList,
    PatchedPostRequest,
    Post,
    PostRequest,
    RegisterRequest,
    Subscription,
    SubscriptionRequest,
    TokenObtainPair,
    TokenObtainPairRequest,
    TokenRefresh,
    TokenRefreshRequest,
    User,
)
from blog_api_client.models import ErrorResponse400 as ValidationErrorBody
from blog_api_client.models import ErrorResponse401 as UnauthorizedBody
from blog_api_client.models import ErrorResponse403 as ForbiddenBody
from blog_api_client.models import ErrorResponse404 as NotFoundBody
from blog_api_client.models import ErrorResponse429 as ThrottledBody
from blog_api_client.models import PostsListOrderingItem as PostOrdering
from blog_api_client.types import Response

PUBLISHED_AT_DESC = PostOrdering.ORDERING_PUBLISHED_AT_DESC


# --- Reading error bodies: the one place that knows the error shape ------------------------------
class _Message(Protocol):
    @property
    def detail(self) -> str: ...


class _ErrorBody(Protocol):
    """Every ErrorResponse<status> model: {type, errors: [{code, detail, attr}]}."""

    @property
    def errors(self) -> Sequence[_Message]: ...


def field_errors(error: ValidationErrorBody) -> dict[str, list[str]]:
    """Messages by the field (or query parameter) they name."""
    found: dict[str, list[str]] = {}
    for item in error.errors:
        found.setdefault(item.attr or "non_field_errors", []).append(item.detail)
    return found


def error_text(error: _ErrorBody) -> str:
    return " ".join(item.detail for item in error.errors)


# --- The flow ------------------------------------------------------------------------------------
PASSWORD = "a-long-enough-password-42"


def expect[T](response: Response[Any], model: type[T], status: int = HTTPStatus.OK) -> T:
    """The parsed body, after checking the status and that it parsed as `model`."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, model):
        raise AssertionError(
            f"expected {status} {model.__name__}, got {int(response.status_code)} {type(parsed).__name__}: "
            f"{response.content[:500]!r}"
        )
    return parsed


def step(name: str) -> None:
    print(f"ok: {name}", flush=True)


def anonymous_client(base_url: str) -> Client:
    return Client(base_url=base_url, raise_on_unexpected_status=True)


def signed_in(base_url: str, access: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=base_url, token=access, raise_on_unexpected_status=True)


def register_and_sign_in(base_url: str, name: str) -> tuple[User, TokenObtainPair]:
    anonymous = anonymous_client(base_url)
    user = expect(
        auth_register.sync_detailed(
            client=anonymous,
            body=RegisterRequest(username=name, password=PASSWORD, email=f"{name}@example.com"),
        ),
        User,
        HTTPStatus.CREATED,
    )
    credentials = TokenObtainPairRequest(username=name, password=PASSWORD)
    tokens = expect(auth_sign_in.sync_detailed(client=anonymous, body=credentials), TokenObtainPair)
    return user, tokens


def run(base_url: str) -> None:
    anonymous = anonymous_client(base_url)
    suffix = uuid.uuid4().hex[:8]

    author, author_tokens = register_and_sign_in(base_url, f"ada-{suffix}")
    reader, reader_tokens = register_and_sign_in(base_url, f"bob-{suffix}")
    step("register and sign in")
    as_author = signed_in(base_url, author_tokens.access)
    as_reader = signed_in(base_url, reader_tokens.access)

    assert expect(me.sync_detailed(client=as_reader), User).id == reader.id
    # Only an author with a published post can be followed (no account is revealed by its id).
    introduction = expect(
        posts_create.sync_detailed(client=as_author, body=PostRequest(title="About me", body="Engines.")),
        Post,
        HTTPStatus.CREATED,
    )
    expect(posts_publish.sync_detailed(introduction.id, client=as_author), Post)
    step("a first post, so that the author can be followed")
    follow = expect(
        subscriptions_create.sync_detailed(client=as_reader, body=SubscriptionRequest(author=author.id)),
        Subscription,
        HTTPStatus.CREATED,
    )
    assert follow.author == author.id
    step("follow")

    title = f"Notes on the engine {suffix}"
    draft = expect(
        posts_create.sync_detailed(client=as_author, body=PostRequest(title=title, body="It weaves patterns.")),
        Post,
        HTTPStatus.CREATED,
    )
    assert not draft.published and draft.published_at is None
    step("write a draft")
    published = expect(posts_publish.sync_detailed(draft.id, client=as_author), Post)
    assert published.published and published.published_at is not None
    step("publish")

    page = expect(
        posts_list.sync_detailed(
            client=anonymous,
            search=suffix,
            ordering=[PUBLISHED_AT_DESC],
            page_size=5,
        ),
        PaginatedPostList,
    )
    assert [post.id for post in page.results] == [draft.id], page
    step("list posts anonymously (search, ordering, page size)")

    comment = expect(
        comments_create.sync_detailed(draft.id, client=as_reader, body=CommentRequest(body="Beautiful.")),
        Comment,
        HTTPStatus.CREATED,
    )
    comments = expect(comments_list.sync_detailed(draft.id, client=as_reader), PaginatedCommentList)
    assert [c.id for c in comments.results] == [comment.id], comments
    step("comment")

    notifications = expect(notifications_list.sync_detailed(client=as_reader), PaginatedNotificationList)
    assert [n.post for n in notifications.results] == [draft.id], notifications
    step("notification of the followed author's post")

    # --- The errors a client must handle, each parsed as its typed model ---
    invalid = expect(
        posts_create.sync_detailed(client=as_author, body=PostRequest(title="", body="No title.")),
        ValidationErrorBody,
        HTTPStatus.BAD_REQUEST,
    )
    assert "title" in field_errors(invalid), invalid
    step("400 names the invalid field")
    unauthenticated = expect(
        me.sync_detailed(client=signed_in(base_url, "not-a-token")),
        UnauthorizedBody,
        HTTPStatus.UNAUTHORIZED,
    )
    assert error_text(unauthenticated), unauthenticated
    step("401 for a bad token")
    forbidden = expect(
        posts_partial_update.sync_detailed(draft.id, client=as_reader, body=PatchedPostRequest(title="Mine now")),
        ForbiddenBody,
        HTTPStatus.FORBIDDEN,
    )
    assert error_text(forbidden), forbidden
    step("403 on someone else's post")
    missing = expect(
        posts_retrieve.sync_detailed(999_999_999, client=as_reader),
        NotFoundBody,
        HTTPStatus.NOT_FOUND,
    )
    assert error_text(missing), missing
    step("404 for a post that does not exist")

    # --- Tokens: refresh rotates, the old refresh token is refused, logout revokes ---
    rotated = expect(
        auth_refresh.sync_detailed(client=anonymous, body=TokenRefreshRequest(refresh=reader_tokens.refresh)),
        TokenRefresh,
    )
    assert rotated.refresh != reader_tokens.refresh
    reused = expect(
        auth_refresh.sync_detailed(client=anonymous, body=TokenRefreshRequest(refresh=reader_tokens.refresh)),
        UnauthorizedBody,
        HTTPStatus.UNAUTHORIZED,
    )
    assert error_text(reused), reused
    step("refresh (the old refresh token is then 401)")
    as_reader = signed_in(base_url, rotated.access)
    logout = auth_logout.sync_detailed(client=as_reader, body=LogoutRequest(refresh=rotated.refresh))
    assert logout.status_code == HTTPStatus.NO_CONTENT, logout
    revoked = expect(
        auth_refresh.sync_detailed(client=anonymous, body=TokenRefreshRequest(refresh=rotated.refresh)),
        UnauthorizedBody,
        HTTPStatus.UNAUTHORIZED,
    )
    assert error_text(revoked), revoked
    again = expect(
        auth_logout.sync_detailed(client=as_reader, body=LogoutRequest(refresh=rotated.refresh)),
        UnauthorizedBody,
        HTTPStatus.UNAUTHORIZED,
    )
    assert error_text(again), again
    step("logout (the refresh token is then 401, to refresh and to logout alike)")

    # --- Last, as it throttles this address's auth calls for a while ---
    wrong = TokenObtainPairRequest(username=f"ada-{suffix}", password="not-the-password")
    for _ in range(1000):
        attempt = auth_sign_in.sync_detailed(client=anonymous, body=wrong)
        if attempt.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            throttled = expect(attempt, ThrottledBody, HTTPStatus.TOO_MANY_REQUESTS)
            assert error_text(throttled) and attempt.headers.get("Retry-After"), attempt
            break
        expect(attempt, UnauthorizedBody, HTTPStatus.UNAUTHORIZED)
    else:
        raise AssertionError("1000 failed sign-ins and no 429")
    step("429 with Retry-After once sign-ins are throttled")


if __name__ == "__main__":
    run(sys.argv[1])
    print("flow: OK")
