"""Hostile input: every malformed, oversized, mistyped or forged request answers a 4xx JSON
error (never a 500, never an HTML page) and changes nothing in the database.

Valid-but-odd input (emoji, right-to-left text, SQL-looking search terms, unknown ordering
fields, out-of-range page sizes) is served normally; those tests pin down exactly how.
Runs on whichever database DATABASE_URL names: SQLite and Postgres differ on NUL bytes,
encodings and integer ranges, so run it on both.
"""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from blog.models import Comment, Post
from tests.support.contract import assert_error_shape, error_codes, error_message, field_errors, snapshot
from tests.support.factories import TEST_PASSWORD, CommentFactory, NotificationFactory, PostFactory, SubscriptionFactory

User = get_user_model()

pytestmark = pytest.mark.django_db


BIG_IDS = [2**63 - 1, 2**63, 2**64, 10**30]


# --- helpers -----------------------------------------------------------------------------
def assert_json_error(response, status=None):
    """A 4xx whose body is a JSON object (what API clients parse), never HTML."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert_error_shape(body, response.status_code)
    return body


def assert_json_ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def world():
    """Two users, a published post and a draft by the first, a comment, a follow, a notification."""
    alice = User.objects.create_user("alice", "alice@example.com", TEST_PASSWORD)
    bob = User.objects.create_user("bob", "bob@example.com", TEST_PASSWORD)
    post = PostFactory(author=alice, live=True, title="Original title", body="Original body")
    draft = PostFactory(author=alice, title="Draft", body="Unpublished")
    comment = CommentFactory(post=post, author=bob, body="Original comment")
    SubscriptionFactory(subscriber=bob, author=alice)
    NotificationFactory(recipient=bob, post=post)
    return {"alice": alice, "bob": bob, "post": post, "draft": draft, "comment": comment}


@pytest.fixture
def alice_client(world):
    """Signed in with a real JWT obtained from the token endpoint."""
    response = APIClient().post("/api/auth/token/", {"username": "alice", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return bearer(response.json()["access"])


# Every endpoint that takes a JSON body. `{post}` and `{comment}` are filled from `world`.
JSON_ENDPOINTS = [
    ("post", "/api/posts/"),
    ("put", "/api/posts/{post}/"),
    ("patch", "/api/posts/{post}/"),
    ("post", "/api/posts/{post}/comments/"),
    ("patch", "/api/posts/{post}/comments/{comment}/"),
    ("post", "/api/subscriptions/"),
    ("post", "/api/auth/register/"),
    ("post", "/api/auth/token/"),
    ("post", "/api/auth/token/refresh/"),
    ("post", "/api/auth/token/verify/"),
    ("post", "/api/auth/logout/"),
]


def fill(path, world):
    return path.format(post=world["post"].pk, comment=world["comment"].pk)


def send_raw(client, method, path, body: bytes, content_type="application/json"):
    return getattr(client, method)(path, data=body, content_type=content_type)


def comment_client(world):
    """The comment endpoints are checked as the comment's author, the others as the post's."""
    client = APIClient()
    client.force_authenticate(world["bob"])
    return client


def client_for(template, world, alice_client):
    return comment_client(world) if "{comment}" in template else alice_client


# --- malformed and mistyped bodies -------------------------------------------------------
MALFORMED_BODIES = {
    "truncated": b'{"title": "x", "body": ',
    "single-quotes": b"{'title': 'x', 'body': 'y'}",
    "trailing-garbage": b'{"title": "x", "body": "y"} trailing',
    "invalid-utf8": b'{"title": "\xff\xfe", "body": "y"}',
    "nan": b'{"title": "x", "body": "y", "n": NaN}',
    "infinity": b'{"title": "x", "body": "y", "n": Infinity}',
    "bom": b'\xef\xbb\xbf{"title": "x", "body": "y"}',
    "deep-nesting": b"[" * 50_000 + b"]" * 50_000,
    "deep-nesting-object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    "lone-surrogate": b'{"title": "\\ud800", "body": "y", "username": "\\udfff", "password": "\\ud800",'
    b' "refresh": "\\ud800", "token": "\\ud800", "author": "\\ud800"}',
}
NOT_AN_OBJECT = {
    "array": b"[]",
    "array-of-object": b'[{"title": "x", "body": "y"}]',
    "string": b'"title"',
    "number": b"42",
    "null": b"null",
    "true": b"true",
}


@pytest.mark.parametrize("method,path", JSON_ENDPOINTS)
@pytest.mark.parametrize("kind", [*MALFORMED_BODIES, *NOT_AN_OBJECT])
def test_malformed_or_non_object_json_is_400(world, alice_client, method, path, kind):
    body = MALFORMED_BODIES.get(kind) or NOT_AN_OBJECT[kind]
    client = client_for(path, world, alice_client)
    path = fill(path, world)
    before = snapshot()
    response = send_raw(client, method, path, body)
    assert_json_error(response, 400)
    assert snapshot() == before


WRONG_CONTENT_TYPES = {
    "form-urlencoded": (b"title=x&body=y&username=u&password=p", "application/x-www-form-urlencoded"),
    "multipart": (
        b'--B\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--B--\r\n',
        "multipart/form-data; boundary=B",
    ),
    "text-plain": (b'{"title": "x", "body": "y"}', "text/plain"),
    "xml": (b"<post><title>x</title><body>y</body></post>", "application/xml"),
    "yaml": (b"title: x\nbody: y\n", "application/yaml"),
    "no-subtype": (b'{"title": "x", "body": "y"}', "application"),
}


@pytest.mark.parametrize("method,path", JSON_ENDPOINTS)
@pytest.mark.parametrize("kind", WRONG_CONTENT_TYPES)
def test_wrong_content_type_is_415(world, alice_client, method, path, kind):
    body, content_type = WRONG_CONTENT_TYPES[kind]
    client = client_for(path, world, alice_client)
    path = fill(path, world)
    before = snapshot()
    response = send_raw(client, method, path, body, content_type)
    assert_json_error(response, 415)
    assert snapshot() == before


def test_unsupported_json_charset_is_400(world, alice_client):
    before = snapshot()
    response = send_raw(
        alice_client, "post", "/api/posts/", b'{"title": "x", "body": "y"}', "application/json; charset=bogus-9"
    )
    # Django ignores an unknown charset and falls back to UTF-8; either way nothing breaks.
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert_json_error(response)
        assert snapshot() == before


def test_decompressing_charset_is_refused(world, alice_client):
    """A bytes-to-bytes codec would inflate a small body past the upload limit."""
    import bz2

    before = snapshot()
    body = bz2.compress(b'{"title": "x", "body": "' + b"y" * 5_000_000 + b'"}')
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = send_raw(alice_client, "post", "/api/posts/", body, "application/json; charset=bz2_codec")
    assert_json_error(response, 400)
    assert snapshot() == before


def test_body_in_a_wrong_declared_charset_is_400(world, alice_client):
    before = snapshot()
    response = send_raw(
        alice_client, "post", "/api/posts/", b'{"title": "x", "body": "y"}', "application/json; charset=utf-16"
    )
    assert_json_error(response, 400)
    assert snapshot() == before


def test_unacceptable_accept_header_is_406_json(world, alice_client):
    before = snapshot()
    response = alice_client.post(
        "/api/posts/", {"title": "x", "body": "y"}, format="json", HTTP_ACCEPT="application/xml"
    )
    assert_json_error(response, 406)
    assert snapshot() == before


# --- sizes -------------------------------------------------------------------------------
TOO_LONG = [
    ("post", "/api/posts/", {"title": "t" * 201, "body": "b"}, "title"),
    ("post", "/api/posts/", {"title": "t" * 100_000, "body": "b"}, "title"),
    ("post", "/api/posts/", {"title": "t", "body": "b" * 100_001}, "body"),
    ("put", "/api/posts/{post}/", {"title": "t" * 201, "body": "b"}, "title"),
    ("patch", "/api/posts/{post}/", {"body": "b" * 100_001}, "body"),
    ("post", "/api/posts/{post}/comments/", {"body": "c" * 10_001}, "body"),
    ("patch", "/api/posts/{post}/comments/{comment}/", {"body": "c" * 10_001}, "body"),
    ("post", "/api/auth/register/", {"username": "u" * 151, "password": TEST_PASSWORD}, "username"),
    ("post", "/api/auth/register/", {"username": "longpass", "password": "p" * 129}, "password"),
    (
        "post",
        "/api/auth/register/",
        {"username": "longmail", "password": TEST_PASSWORD, "email": "m" * 250 + "@example.com"},
        "email",
    ),
]


@pytest.mark.parametrize("method,path,payload,field", TOO_LONG, ids=lambda v: v if isinstance(v, str) else "")
def test_too_long_fields_are_400_naming_the_field(world, alice_client, method, path, payload, field):
    client = client_for(path, world, alice_client)
    path = fill(path, world)
    before = snapshot()
    response = getattr(client, method)(path, payload, format="json")
    assert_json_error(response, 400)
    assert field in field_errors(response)
    assert snapshot() == before


def test_fields_at_their_limits_are_accepted(world, alice_client):
    """The positive control for the size limits: exactly at the maximum is fine."""
    response = alice_client.post("/api/posts/", {"title": "t" * 200, "body": "b" * 100_000}, format="json")
    created = assert_json_ok(response, 201)
    assert len(Post.objects.get(pk=created["id"]).body) == 100_000
    response = APIClient().post(
        "/api/auth/register/",
        {"username": "u" * 150, "password": TEST_PASSWORD, "email": "m" * 64 + "@" + "d" * 60 + ".example.com"},
        format="json",
    )
    assert_json_ok(response, 201)


@pytest.mark.parametrize("method,path", JSON_ENDPOINTS)
def test_body_over_the_upload_limit_is_rejected(world, alice_client, method, path):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    padding = "x" * (limit + 1)
    body = json.dumps({"title": "t", "body": "b", "padding": padding, "username": "big", "password": padding}).encode()
    client = client_for(path, world, alice_client)
    path = fill(path, world)
    before = snapshot()
    response = send_raw(client, method, path, body)
    assert_json_error(response, 413)
    assert error_message(response, 413) == "Request body too large (at most 1 MiB)."  # as nginx's
    assert snapshot() == before


# --- NUL bytes ---------------------------------------------------------------------------
NUL_BODIES = [
    ("post", "/api/posts/", {"title": "a\x00b", "body": "ok"}),
    ("post", "/api/posts/", {"title": "ok", "body": "\x00"}),
    ("put", "/api/posts/{post}/", {"title": "ok", "body": "a\x00"}),
    ("patch", "/api/posts/{post}/", {"title": "\x00"}),
    ("post", "/api/posts/{post}/comments/", {"body": "nul\x00comment"}),
    ("patch", "/api/posts/{post}/comments/{comment}/", {"body": "\x00"}),
    ("post", "/api/subscriptions/", {"author": "\x00"}),
    ("post", "/api/subscriptions/", {"author": "1\x00"}),
    ("post", "/api/auth/register/", {"username": "nul\x00user", "password": TEST_PASSWORD}),
    ("post", "/api/auth/register/", {"username": "nuluser", "password": "pass\x00word-long-enough"}),
    ("post", "/api/auth/register/", {"username": "nuluser", "password": TEST_PASSWORD, "email": "a\x00@example.com"}),
    ("post", "/api/auth/token/", {"username": "alice\x00", "password": TEST_PASSWORD}),
    ("post", "/api/auth/token/", {"username": "alice", "password": TEST_PASSWORD + "\x00"}),
    ("post", "/api/auth/token/refresh/", {"refresh": "\x00"}),
    ("post", "/api/auth/token/verify/", {"token": "a.b\x00.c"}),
    ("post", "/api/auth/logout/", {"refresh": "\x00"}),
]


@pytest.mark.parametrize("method,path,payload", NUL_BODIES)
def test_nul_bytes_in_json_fields_are_4xx(world, alice_client, method, path, payload):
    client = client_for(path, world, alice_client)
    path = fill(path, world)
    before = snapshot()
    response = getattr(client, method)(path, payload, format="json")
    assert_json_error(response)
    assert response.status_code in (400, 401)
    assert snapshot() == before


NUL_QUERIES_REJECTED = [
    ("/api/posts/", {"search": "a\x00b"}, 400),
    ("/api/posts/", {"author": "\x00"}, 400),
    ("/api/posts/", {"created_after": "2024-01-01\x00"}, 400),
    ("/api/posts/", {"created_before": "\x00"}, 400),
    ("/api/posts/", {"page": "\x00"}, 400),
    ("/api/posts/{post}/comments/", {"page": "1\x00"}, 400),
]


@pytest.mark.parametrize("path,params,status", NUL_QUERIES_REJECTED)
def test_nul_bytes_in_query_params_are_4xx(world, alice_client, path, params, status):
    before = snapshot()
    response = alice_client.get(fill(path, world), params)
    assert_json_error(response, status)
    if status == 400:  # filter errors name the parameter, like any validation error
        assert set(field_errors(response)) == set(params)
    assert snapshot() == before


@pytest.mark.parametrize("params", [{"ordering": "\x00"}, {"ordering": "title\x00"}, {"page_size": "\x00"}])
def test_nul_bytes_in_ordering_and_page_size_are_400_naming_them(world, alice_client, params):
    """Found by Schemathesis' negative_data_rejection: the schema allows none of these values, so
    they are refused under the parameter's name rather than ignored."""
    assert set(field_errors(alice_client.get("/api/posts/", params))) == set(params)


@pytest.mark.parametrize(
    "path",
    [
        "/api/posts/\x00/",
        "/api/posts/1\x00/",
        "/api/posts/{post}/comments/\x00/",
        "/api/subscriptions/\x00/",
        "/api/notifications/\x00/read/",
        "/api/\x00/",
    ],
)
@pytest.mark.parametrize("method", ["get", "delete"])
def test_nul_bytes_in_paths_are_404_json(world, alice_client, path, method):
    before = snapshot()
    response = getattr(alice_client, method)(fill(path, world))
    assert_json_error(response, 404)
    assert snapshot() == before


# --- odd Unicode -------------------------------------------------------------------------
ODD_TEXT = {
    "rtl": "مرحبا بالعالم \u202eevil.exe\u202c שלום",
    "emoji": "👩‍👩‍👧‍👦 🚀🔥 \U0001f9d1\U0001f3fd\u200d\U0001f4bb",
    "combining": "Z\u0351\u0352a\u0300\u0301\u0302\u0303l\u0304\u0305g\u0306o\u0307 e\u0301",
    "astral-cjk": "𠜎𠜱𠝹 \U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594",
    "zero-width": "zero\u200bwidth\u200cjoin\u200d\ufeffbom",
    "controls": "tab\tnew\nline\rcarriage\x1bescape\x7f",
}


@pytest.mark.parametrize("kind", ODD_TEXT)
def test_odd_but_valid_unicode_round_trips_exactly(world, alice_client, kind):
    text = ODD_TEXT[kind]
    response = alice_client.post("/api/posts/", {"title": text, "body": text * 3}, format="json")
    created = assert_json_ok(response, 201)
    assert (created["title"], created["body"]) == (text, text * 3)
    stored = Post.objects.get(pk=created["id"])
    assert (stored.title, stored.body) == (text, text * 3)
    fetched = assert_json_ok(alice_client.get(f"/api/posts/{created['id']}/"))
    assert (fetched["title"], fetched["body"]) == (text, text * 3)
    comment = assert_json_ok(
        alice_client.post(f"/api/posts/{world['post'].pk}/comments/", {"body": text}, format="json"), 201
    )
    assert Comment.objects.get(pk=comment["id"]).body == text
    found = assert_json_ok(alice_client.get("/api/posts/", {"search": text.split()[0]}))
    assert created["id"] in [post["id"] for post in found["results"]]


def test_title_at_the_limit_counts_characters_not_bytes(world, alice_client):
    title = "🚀" * 200  # 800 bytes of UTF-8, 200 characters
    created = assert_json_ok(alice_client.post("/api/posts/", {"title": title, "body": "b"}, format="json"), 201)
    assert Post.objects.get(pk=created["id"]).title == title
    assert_json_error(alice_client.post("/api/posts/", {"title": title + "🚀", "body": "b"}, format="json"), 400)


def test_lone_surrogate_in_a_json_string_is_400_on_every_field(world, alice_client):
    before = snapshot()
    for payload in ({"title": "\\ud800", "body": "b"}, {"title": "t", "body": "x\\udfffy"}):
        raw = json.dumps(payload).replace("\\\\u", "\\u").encode()
        assert b"\\ud" in raw
        assert_json_error(send_raw(alice_client, "post", "/api/posts/", raw), 400)
    assert snapshot() == before


def test_invalid_utf8_in_query_string_is_replaced_not_a_crash(world, alice_client):
    response = alice_client.get("/api/posts/", QUERY_STRING="search=%ED%A0%80%FF")
    assert assert_json_ok(response)["results"] == []


# --- pagination --------------------------------------------------------------------------
@pytest.fixture
def many_posts(world):
    Post.objects.bulk_create(
        [
            Post(author=world["alice"], title=f"bulk {i}", body="b", published=True, published_at=timezone.now())
            for i in range(110)
        ]
    )
    return Post.objects.filter(published=True).count() + 1  # plus alice's own draft


@pytest.mark.parametrize("page", ["2", str(2**63), str(10**30)])
def test_a_page_past_the_end_is_404_json(many_posts, alice_client, page):
    response = alice_client.get("/api/posts/", {"page": page, "page_size": 100} if page == "2" else {"page": page})
    if page == "2":  # 111 visible posts, 100 per page: page 2 exists and page 3 does not
        assert len(assert_json_ok(response)["results"]) == many_posts - 100
        response = alice_client.get("/api/posts/", {"page": 3, "page_size": 100})
    assert_json_error(response, 404)


@pytest.mark.parametrize("page", ["-1", "0", "abc", "1.5", "1e3", "NaN", "last\x00", ""])
def test_a_page_that_is_no_whole_number_from_1_is_400_naming_page(many_posts, alice_client, page):
    assert set(field_errors(alice_client.get("/api/posts/", {"page": page}))) == {"page"}


@pytest.mark.parametrize(("page_size", "expected"), [("5", 5), ("100", 100), ("101", 100), (str(10**30), 100)])
def test_page_size_is_capped(many_posts, alice_client, page_size, expected):
    body = assert_json_ok(alice_client.get("/api/posts/", {"page_size": page_size}))
    assert body["count"] == many_posts
    assert len(body["results"]) == expected


@pytest.mark.parametrize("page_size", ["-1", "0", "abc", "", "1.5", "null"])
def test_a_page_size_that_is_no_whole_number_from_1_is_400_naming_page_size(many_posts, alice_client, page_size):
    assert set(field_errors(alice_client.get("/api/posts/", {"page_size": page_size}))) == {"page_size"}


# --- ordering and search -----------------------------------------------------------------
@pytest.mark.parametrize(
    "ordering",
    [
        "password",
        "author__password",
        "-author__password",
        "author__email",
        "notifications_pending",
        "nonexistent",
        "-",
        ",",
        "?",
        "title;DROP TABLE blog_post",
        "comment_count__gt",
        "title)--",
    ],
)
def test_unknown_ordering_fields_are_400_naming_ordering(world, alice_client, ordering):
    """Refused before any query: nothing orders by a private column, nothing reaches the SQL."""
    PostFactory(author=world["bob"], live=True, title="Aardvark")
    before = snapshot()
    assert set(field_errors(alice_client.get("/api/posts/", {"ordering": ordering}))) == {"ordering"}
    assert snapshot() == before


def test_a_known_ordering_field_next_to_an_unknown_one_is_400_too(world, alice_client):
    response = alice_client.get("/api/posts/", {"ordering": "author__password,-title"})
    assert set(field_errors(response)) == {"ordering"}


SEARCH_POSTS = {"percent": "100% sure", "underscore": "snake_case name", "backslash": r"back\slash", "plain": "plain"}


@pytest.mark.parametrize(
    "term,expected",
    [
        ("' OR '1'='1", []),
        ("'; DROP TABLE blog_post; --", []),
        ('" OR ""="', []),
        ("' UNION SELECT password FROM auth_user --", []),
        ("1) OR (1=1", []),
        ("%", ["percent"]),
        ("%%", []),
        ("_", ["underscore"]),
        ("\\", ["backslash"]),
        ("*", []),
        ("plain", ["plain"]),
    ],
)
def test_sql_like_search_terms_match_literally(world, alice_client, term, expected):
    ids = {
        key: PostFactory(author=world["bob"], live=True, title=title, body="text").pk
        for key, title in SEARCH_POSTS.items()
    }
    before = snapshot()
    response = alice_client.get("/api/posts/", {"search": term})
    found = {post["id"] for post in assert_json_ok(response)["results"]}
    assert found == {ids[key] for key in expected}
    assert snapshot() == before
    assert Post.objects.count() == len(before["posts"])  # the table is still there


# --- ids out of range --------------------------------------------------------------------
ID_PATHS = [
    ("get", "/api/posts/{id}/"),
    ("put", "/api/posts/{id}/"),
    ("patch", "/api/posts/{id}/"),
    ("delete", "/api/posts/{id}/"),
    ("post", "/api/posts/{id}/publish/"),
    ("get", "/api/posts/{id}/comments/"),
    ("post", "/api/posts/{id}/comments/"),
    ("get", "/api/posts/{post}/comments/{id}/"),
    ("patch", "/api/posts/{post}/comments/{id}/"),
    ("delete", "/api/posts/{post}/comments/{id}/"),
    ("get", "/api/subscriptions/{id}/"),
    ("delete", "/api/subscriptions/{id}/"),
    ("get", "/api/notifications/{id}/"),
    ("post", "/api/notifications/{id}/read/"),
]


@pytest.mark.parametrize("big", BIG_IDS)
@pytest.mark.parametrize("method,path", ID_PATHS)
def test_ids_beyond_64_bits_in_paths_are_404(world, alice_client, method, path, big):
    path = path.format(id=big, post=world["post"].pk)
    before = snapshot()
    response = getattr(alice_client, method)(path, {"title": "t", "body": "b"}, format="json")
    assert_json_error(response, 404)
    assert snapshot() == before


@pytest.mark.parametrize("author", [str(2**63), str(10**30), "-1", "0", "1.5", "abc", "1 OR 1=1"])
def test_bad_author_filter_is_400_naming_the_field(world, alice_client, author):
    assert "author" in field_errors(alice_client.get("/api/posts/", {"author": author}))


def test_largest_valid_author_id_is_an_empty_list(world, alice_client):
    assert assert_json_ok(alice_client.get("/api/posts/", {"author": 2**63 - 1}))["results"] == []


@pytest.mark.parametrize("author", [*BIG_IDS, -1, 0, 1.5, True, "abc", None, [], {}, "1 OR 1=1"])
def test_bad_subscription_author_is_400(world, alice_client, author):
    before = snapshot()
    assert "author" in field_errors(alice_client.post("/api/subscriptions/", {"author": author}, format="json"))
    assert snapshot() == before


# --- JWTs --------------------------------------------------------------------------------
def forge(header: dict, payload: dict, key=None, algorithm="HS256", signature=None) -> str:
    segments = [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode())]
    if signature is None:
        signature = b64(jwt.api_jws.get_algorithm_by_name(algorithm).sign(".".join(segments).encode(), key))
    return ".".join([*segments, signature])


def claims_of(token: str) -> dict:
    return json.loads(unb64(token.split(".")[1]))


def hostile_access_tokens(user, victim):
    """Tokens that must not authenticate anyone, each with the way it was made."""
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    good = str(AccessToken.for_user(user))
    header, payload, signature = good.split(".")
    claims = claims_of(good)
    expired = AccessToken.for_user(user)
    expired.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=1))
    as_victim = {**claims, "user_id": str(victim.pk)}
    hs = jwt.api_jws.get_algorithm_by_name("HS256").prepare_key(key)
    return {
        "expired": str(expired),
        "signature-flipped": f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}",
        "signature-removed": f"{header}.{payload}.",
        "payload-changed": f"{header}.{b64(json.dumps(as_victim).encode())}.{signature}",
        "alg-none": forge({"alg": "none", "typ": "JWT"}, as_victim, signature=""),
        "alg-None": forge({"alg": "None", "typ": "JWT"}, as_victim, signature=""),
        "hs512-same-key": forge({"alg": "HS512", "typ": "JWT"}, as_victim, key=hs, algorithm="HS512"),
        # An RS256 header over an HMAC signature: the classic key-confusion attack.
        "rs256-header-hmac-signature": forge({"alg": "RS256", "typ": "JWT"}, as_victim, key=hs, algorithm="HS256"),
        "wrong-key": forge({"alg": "HS256", "typ": "JWT"}, as_victim, key=b"not-the-key", algorithm="HS256"),
        "refresh-as-access": str(RefreshToken.for_user(user)),
        "garbage": "not-a-jwt",
        "two-segments": f"{header}.{payload}",
        "empty-segments": "..",
        "huge": "A" * 20_000,
        "nul": f"{header}.{payload}\x00.{signature}",
    }


TOKEN_KINDS = [
    "expired",
    "signature-flipped",
    "signature-removed",
    "payload-changed",
    "alg-none",
    "alg-None",
    "hs512-same-key",
    "rs256-header-hmac-signature",
    "wrong-key",
    "refresh-as-access",
    "garbage",
    "two-segments",
    "empty-segments",
    "huge",
    "nul",
]


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_forged_or_expired_access_tokens_are_401(world, kind):
    tokens = hostile_access_tokens(world["alice"], world["bob"])
    client = bearer(tokens[kind])
    before = snapshot()
    for response in (
        client.get("/api/me/"),
        client.post("/api/posts/", {"title": "forged", "body": "forged"}, format="json"),
        client.delete(f"/api/posts/{world['post'].pk}/"),
        client.post("/api/subscriptions/", {"author": world["alice"].pk}, format="json"),
        client.get("/api/notifications/"),
    ):
        assert_json_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    # Reads that need no account still refuse a bad token rather than silently ignoring it.
    assert_json_error(client.get("/api/posts/"), 401)
    verify = APIClient().post("/api/auth/token/verify/", {"token": tokens[kind]}, format="json")
    if kind == "refresh-as-access":  # verify checks the signature only: a real refresh token is valid
        assert verify.status_code == 200
    else:
        assert_json_error(verify, 401 if kind != "nul" else None)
    assert snapshot() == before


def test_a_valid_token_for_the_same_user_does_work(world):
    """Positive control for the forged-token tests: the unmodified token authenticates."""
    client = bearer(str(AccessToken.for_user(world["alice"])))
    assert assert_json_ok(client.get("/api/me/"))["username"] == "alice"


@pytest.mark.parametrize(
    "kind", ["expired", "signature-flipped", "payload-changed", "alg-none", "hs512-same-key", "access-as-refresh"]
)
def test_forged_or_expired_refresh_tokens_are_rejected(world, kind):
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    refresh = RefreshToken.for_user(world["alice"])
    good = str(refresh)
    header, payload, signature = good.split(".")
    claims = claims_of(good)
    as_bob = {**claims, "user_id": str(world["bob"].pk)}
    expired = RefreshToken.for_user(world["alice"])
    expired.set_exp(from_time=timezone.now() - timedelta(days=30), lifetime=timedelta(days=1))
    hs = jwt.api_jws.get_algorithm_by_name("HS256").prepare_key(key)
    token = {
        "expired": str(expired),
        "signature-flipped": f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}",
        "payload-changed": f"{header}.{b64(json.dumps(as_bob).encode())}.{signature}",
        "alg-none": forge({"alg": "none", "typ": "JWT"}, claims, signature=""),
        "hs512-same-key": forge({"alg": "HS512", "typ": "JWT"}, claims, key=hs, algorithm="HS512"),
        "access-as-refresh": str(refresh.access_token),
    }[kind]
    before = snapshot()
    assert_json_error(APIClient().post("/api/auth/token/refresh/", {"refresh": token}, format="json"), 401)
    logout = bearer(str(AccessToken.for_user(world["alice"]))).post(
        "/api/auth/logout/", {"refresh": token}, format="json"
    )
    # Refused as refresh refuses it.
    assert error_codes(logout, 401) == {None: ["token_not_valid"]}
    assert snapshot() == before


@pytest.fixture
def pair(world):
    """A real access/refresh pair from the token endpoint."""
    response = APIClient().post("/api/auth/token/", {"username": "alice", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def test_refresh_token_reuse_after_logout_is_401(world, pair):
    client = bearer(pair["access"])
    assert client.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json").status_code == 204
    before = snapshot()
    assert_json_error(APIClient().post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"), 401)
    # Signing out with it again is refused as refreshing it is: a 401, not a 400 under `refresh`.
    assert error_codes(client.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json"), 401) == {
        None: ["token_not_valid"]
    }
    assert snapshot() == before


def test_refresh_token_reuse_after_rotation_is_401(world, pair):
    rotated = assert_json_ok(APIClient().post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"))
    assert rotated["refresh"] != pair["refresh"]
    before = snapshot()
    assert_json_error(APIClient().post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"), 401)
    assert snapshot() == before
    # The rotated token is the one that still works.
    assert assert_json_ok(APIClient().post("/api/auth/token/refresh/", {"refresh": rotated["refresh"]}, format="json"))


def test_logout_with_an_access_token_is_401_and_with_someone_elses_refresh_400(world, pair):
    bob_refresh = str(RefreshToken.for_user(world["bob"]))
    client = bearer(pair["access"])
    before = snapshot()
    # Not a refresh token: invalid as the refresh endpoint says.
    assert error_codes(client.post("/api/auth/logout/", {"refresh": pair["access"]}, format="json"), 401) == {
        None: ["token_not_valid"]
    }
    assert set(field_errors(client.post("/api/auth/logout/", {"refresh": bob_refresh}, format="json"))) == {"refresh"}
    assert snapshot() == before
    # Bob's token was not revoked by Alice's attempt.
    assert assert_json_ok(APIClient().post("/api/auth/token/refresh/", {"refresh": bob_refresh}, format="json"))


def test_token_of_a_deleted_user_is_401(world):
    token = str(AccessToken.for_user(world["bob"]))
    world["bob"].delete()
    before = snapshot()
    assert_json_error(bearer(token).get("/api/me/"), 401)
    assert_json_error(bearer(token).post("/api/posts/", {"title": "t", "body": "b"}, format="json"), 401)
    assert snapshot() == before


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "bearer x.y.z",
        "Basic YWxpY2U6cGFzcw==",
        "Token abc",
        "Bearer \x00",
        "Bearer ü",
    ],
)
def test_malformed_authorization_headers_never_authenticate(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    before = snapshot()
    response = client.post("/api/posts/", {"title": "t", "body": "b"}, format="json")
    assert_json_error(response)
    assert response.status_code in (401, 403)
    assert snapshot() == before
