"""The shipped nginx.conf, live: nginx (a local process on a free loopback port) in front of
gunicorn started by scripts/web on the Postgres test database, checked through nginx."""

import difflib
import gzip
import json
import re
import time

import pytest
from django.contrib.auth import get_user_model

from tests.support import external, harness
from tests.support.contract import error_message, field_errors
from tests.support.factories import PostFactory, UserFactory

User = get_user_model()

# django_db: pytest-django sets up the test database only for tests that ask for one; the
# rows the live processes read are committed by the module's own fixture.
pytestmark = [pytest.mark.system, pytest.mark.django_db]

HOST = "blog.example.test"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}
ONE_MIB = 1024 * 1024


@pytest.fixture(scope="module")
def nginx_binary():
    return external.executable("nginx")


@pytest.fixture(scope="module")
def posts(django_db_setup, django_db_blocker):
    """Published posts, committed so the gunicorn processes see them; removed afterwards."""
    with django_db_blocker.unblock():
        author = UserFactory()
        created = PostFactory.create_batch(4, author=author, live=True, body="A paragraph of text. " * 40)
    yield created
    with django_db_blocker.unblock():
        author.delete()
        User.objects.filter(username="uploader").delete()  # registered by a test, through the API


@pytest.fixture(scope="module")
def stack(nginx_binary, posts, collected_static):
    env = harness.app_env(
        harness.live_database_url(),
        ALLOWED_HOSTS=f"{HOST},127.0.0.1,localhost",
        # The production default: plain HTTP is redirected, which is what X-Forwarded-Proto must stop.
        SECURE_SSL_REDIRECT="true",
        # DRF's own auth throttle out of the way, so a 429 on /api/auth/ can only be nginx's limit_req.
        THROTTLE_AUTH_RATE="10000/min",
        THROTTLE_ANON_RATE="10000/min",
    )
    with harness.live_stack(env, nginx_binary, static_source=collected_static) as live:
        yield live


def _get(stack, path, headers=None):
    return harness.request("GET", stack.nginx.url + path, headers={**HTTPS, **(headers or {})})


def test_nginx_t_accepts_the_shipped_file_with_only_addresses_and_paths_rendered(nginx_binary, tmp_path):
    with harness.scratch_dir() as workdir:
        conf = harness.render_nginx_conf(
            upstream="127.0.0.1:8000", listen_port=external.free_port(), srv_root=workdir / "srv", prefix=workdir
        )
        result = harness.nginx_test(nginx_binary, conf, workdir)
        rendered = conf.read_text().splitlines()
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
    shipped = harness.NGINX_CONF.read_text().splitlines()
    changed = [line for line in difflib.unified_diff(shipped, rendered, lineterm="", n=0) if line.startswith("-")]
    changed = [line[1:].strip() for line in changed if not line.startswith("---")]
    # upstream, listen, root, five temp paths, two log paths: nothing else differs.
    assert len(changed) == 10, changed
    assert all(re.search(r"web:8000|listen 80 |root /srv;|/var/cache/nginx/|/var/log/nginx/", line) for line in changed)


def test_the_api_answers_through_nginx(stack, posts):
    response = _get(stack, "/api/posts/")
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert {post.id for post in posts} <= {item["id"] for item in response.json()["results"]}
    # No version banner; and gunicorn did serve it (nginx proxied, it did not answer alone).
    assert response.header("Server") == "nginx"
    assert harness.eventually(lambda: any(line.status == 200 for line in stack.web.requests("/api/posts/")))


def test_json_is_gzipped_for_clients_that_accept_it(stack, posts):
    response = _get(stack, "/api/posts/", {"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.header("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in response.header("Vary")
    assert json.loads(gzip.decompress(response.body))["count"] >= len(posts)


def test_plain_http_is_redirected_once_and_the_https_request_is_served(stack):
    plain = harness.request("GET", stack.nginx.url + "/api/posts/?page_size=1", headers={"Host": HOST})
    assert plain.status == 301
    assert plain.header("Location") == f"https://{HOST}/api/posts/?page_size=1"
    # The TLS terminator in front sends the same request again with X-Forwarded-Proto: https:
    # served, not redirected a second time (no loop).
    followed = _get(stack, "/api/posts/?page_size=1")
    assert followed.status == 200
    assert followed.header("Strict-Transport-Security", "").startswith("max-age=")
    # Anything but http/https from the client is not believed: nginx's own scheme (http) wins.
    bogus = harness.request(
        "GET", stack.nginx.url + "/api/posts/", headers={"Host": HOST, "X-Forwarded-Proto": "https, http"}
    )
    assert bogus.status == 301


def test_health_is_answered_over_plain_http_without_a_redirect(stack):
    response = harness.request("GET", stack.nginx.url + "/health/", headers={"Host": "10.0.0.7"})
    assert response.status == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("host", [HOST, f"{HOST}:8443"])
def test_pagination_links_are_https_urls_on_the_host_the_client_used(stack, posts, host):
    response = _get(stack, "/api/posts/?page_size=1", {"Host": host})
    assert response.status == 200
    page = response.json()
    assert page["next"] == f"https://{host}/api/posts/?page=2&page_size=1"
    second = _get(stack, "/api/posts/?page=2&page_size=1", {"Host": host}).json()
    assert second["previous"] == f"https://{host}/api/posts/?page_size=1"


def test_the_request_id_is_nginxs_or_the_callers_and_reaches_the_app(stack):
    own = _get(stack, "/api/posts/?request-id=mine")
    assigned = own.header("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", assigned)
    # The id the app answered with is the one nginx logged: nginx made it and passed it on.
    assert harness.eventually(lambda: f"rid={assigned}" in stack.nginx.access_log.read_text())

    theirs = _get(stack, "/api/posts/?request-id=theirs", {"X-Request-ID": "trace-4f2a.77"})
    assert theirs.header("X-Request-ID") == "trace-4f2a.77"
    assert harness.eventually(lambda: "rid=trace-4f2a.77" in stack.nginx.access_log.read_text())


def _manifest(stack) -> dict[str, str]:
    return json.loads((stack.static_root / "staticfiles.json").read_text())["paths"]


def test_hashed_static_files_come_from_nginx_cached_forever(stack):
    original = "rest_framework/css/bootstrap.min.css"
    hashed = _manifest(stack)[original]
    response = harness.request("GET", f"{stack.nginx.url}/static/{hashed}")
    assert response.status == 200
    assert response.body == (stack.static_root / hashed).read_bytes()
    assert response.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.header("ETag") and response.header("Last-Modified")
    assert response.header("Content-Type") == "text/css"
    assert response.header("X-Content-Type-Options") == "nosniff"
    # collectstatic wrote a .gz beside it; nginx sends that to clients that accept gzip.
    zipped = harness.request("GET", f"{stack.nginx.url}/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert zipped.header("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.body) == response.body
    # The unhashed original may change with a release: cached for an hour, not immutable.
    plain = harness.request("GET", f"{stack.nginx.url}/static/{original}")
    assert plain.status == 200
    assert plain.header("Cache-Control") == "public, max-age=3600"
    # gunicorn never saw a static request (whitenoise would have answered the same bytes).
    assert stack.web.requests("/static/") == []
    assert harness.eventually(lambda: [line.status for line in stack.nginx.requests(f"/static/{hashed}")] == [200, 200])


def test_media_files_come_from_nginx_with_cache_headers(stack):
    upload = stack.media_root / "uploads" / "avatar.txt"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text("an uploaded file\n")
    upload.parent.chmod(0o755)
    response = harness.request("GET", f"{stack.nginx.url}/media/uploads/avatar.txt")
    assert response.status == 200
    assert response.body == b"an uploaded file\n"
    assert response.header("Cache-Control") == "public, max-age=604800"
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert stack.web.requests("/media/") == []


@pytest.mark.parametrize(
    ("headers", "query", "status", "detail"),
    [
        ({}, "x" * 9000, 414, "URI Too Long."),  # a request line over large_client_header_buffers (8k)
        ({"X-Padding": "x" * 9000}, "", 431, "Request Header Fields Too Large."),
    ],
    ids=["request-line", "header"],
)
def test_what_nginx_refuses_itself_is_answered_in_json(stack, headers, query, status, detail):
    response = _get(stack, f"/api/posts/?search={query}&refused=1", headers)
    assert response.header("Content-Type") == "application/json"
    assert error_message(response, status) == detail
    assert stack.web.requests("/api/posts/?search=") == [] or all(
        "refused=1" not in logged.path for logged in stack.web.requests("/api/posts/?search=")
    )


def test_an_oversized_body_is_refused_by_nginx_with_a_json_413(stack):
    before = len(stack.web.requests("/api/posts/?size="))
    too_big = b'{"title": "x", "body": "' + b"a" * ONE_MIB + b'"}'
    response = harness.request(
        "POST",
        stack.nginx.url + "/api/posts/?size=big",
        headers={**HTTPS, "Content-Type": "application/json"},
        body=too_big,
    )
    assert response.header("Content-Type") == "application/json"
    assert error_message(response, 413) == "Request body too large (at most 1 MiB)."
    assert len(stack.web.requests("/api/posts/?size=")) == before, "the oversized body reached gunicorn"

    # Just under the limit the request reaches the app, which reads and judges it (a post body is
    # at most 100,000 characters), so the limit is not lower. Signed in: the app reads the whole
    # body first (an early 401 would race nginx still sending it).
    credentials = {"username": "uploader", "password": "a long enough passphrase"}
    register = harness.request("POST", stack.web.url + "/api/auth/register/", headers=HTTPS, json_body=credentials)
    assert register.status == 201, register.body
    token = harness.request("POST", stack.web.url + "/api/auth/token/", headers=HTTPS, json_body=credentials)
    fits = b'{"title": "x", "body": "' + b"a" * (ONE_MIB - 1024) + b'"}'
    response = harness.request(
        "POST",
        stack.nginx.url + "/api/posts/?size=fits",
        headers={**HTTPS, "Content-Type": "application/json", "Authorization": f"Bearer {token.json()['access']}"},
        body=fits,
    )
    assert field_errors(response) == {"body": ["Ensure this field has no more than 100000 characters."]}
    assert harness.eventually(lambda: [line.status for line in stack.web.requests("/api/posts/?size=fits")] == [400])


def test_a_long_upload_answered_before_its_body_is_read_gets_that_answer_not_a_502(stack):
    """A post of 100,000 characters with no token: the app's 401 comes before it reads the
    body (config/middleware.py). Without reading it all first, about one in twenty of these
    turned into nginx's 502, telling the client the app was down instead of asking for a token."""
    body = json.dumps({"title": "Long", "body": "a" * 100_000}).encode()
    headers = {**HTTPS, "Content-Type": "application/json"}
    statuses = [
        harness.request("POST", stack.nginx.url + "/api/posts/?upload=long", headers=headers, body=body).status
        for _ in range(40)
    ]
    assert statuses == [401] * 40


def test_the_auth_endpoints_are_rate_limited_by_nginx_with_a_json_429(stack):
    before = len(stack.web.requests("/api/auth/token/"))  # other tests sign in at gunicorn directly
    started = time.monotonic()
    answers = [
        harness.request(
            "POST", stack.nginx.url + "/api/auth/token/", headers=HTTPS, json_body={"username": "x", "password": "y"}
        )
        for _ in range(12)
    ]
    elapsed = time.monotonic() - started
    statuses = [answer.status for answer in answers]
    passed = statuses.index(429)
    # 10 requests a minute with a burst of 5: the first request and the burst pass (one more
    # if the loop was slow enough for the bucket to leak a request), then every one is refused.
    assert passed == 6 or (passed == 7 and elapsed > 5), statuses
    assert set(statuses[:passed]) == {401} and set(statuses[passed:]) == {429}, statuses
    refused = answers[passed]
    assert refused.header("Content-Type") == "application/json"
    assert error_message(refused, 429) == "Too many requests, try again in a minute."
    assert refused.header("Retry-After") == "60"
    # The refused ones never reached gunicorn; other paths are not limited.
    assert harness.eventually(
        lambda: [line.status for line in stack.web.requests("/api/auth/token/")[before:]] == [401] * passed
    )
    assert _get(stack, "/api/posts/").status == 200


def _nginx_error(response, status, detail):
    """nginx answered this itself, in the app's error shape."""
    assert response.header("Content-Type") == "application/json"
    assert error_message(response, status) == detail


@pytest.mark.parametrize("name", ["page.html", "drawing.svg"])
def test_media_files_are_downloads_sandboxed_never_pages_of_the_site(stack, name):
    """An uploaded .html or .svg opened from /media/ would run its script on the site's origin
    (nosniff does not stop a file whose type is HTML or SVG)."""
    upload = stack.media_root / "uploads" / name
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.parent.chmod(0o755)
    upload.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>')
    response = harness.request("GET", f"{stack.nginx.url}/media/uploads/{name}")
    assert response.status == 200
    assert response.header("Content-Disposition") == "attachment"
    assert response.header("Content-Security-Policy") == "sandbox"
    assert response.header("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    "path",
    ["static/.env", "static/rest_framework/.hidden.css", "static/.git/config", "media/.htaccess", "media/a/.env"],
)
def test_hidden_files_under_static_and_media_are_a_json_404(stack, path):
    hidden = stack.workdir / "srv" / path
    hidden.parent.mkdir(parents=True, exist_ok=True)
    hidden.parent.chmod(0o755)
    hidden.write_text("SECRET_KEY=do-not-serve\n")
    hidden.chmod(0o644)
    response = harness.request("GET", f"{stack.nginx.url}/{path}")
    _nginx_error(response, 404, "Not found.")
    assert b"do-not-serve" not in response.body


def test_what_nginx_answers_itself_for_static_files_is_json(stack):
    # A folder (nginx lists none): 403. A file that does not exist: 404.
    _nginx_error(
        harness.request("GET", f"{stack.nginx.url}/static/rest_framework/"),
        403,
        "You do not have permission to perform this action.",
    )
    _nginx_error(harness.request("GET", f"{stack.nginx.url}/static/no-such-file.css"), 404, "Not found.")
    # The app's own 404 still comes from the app (nginx does not intercept what it proxies).
    api = _get(stack, "/api/no-such-endpoint/")
    assert api.status == 404 and api.header("Content-Type") == "application/json"
    assert harness.eventually(lambda: stack.web.requests("/api/no-such-endpoint/"))


def test_admin_login_posts_are_rate_limited_by_nginx_with_a_json_429(stack):
    url = stack.nginx.url + "/admin/login/"
    form = b"username=admin&password=wrong"
    headers = {**HTTPS, "Content-Type": "application/x-www-form-urlencoded"}
    before = len(stack.web.requests("/admin/login/"))
    answers = [harness.request("POST", url, headers=headers, body=form) for _ in range(10)]
    statuses = [answer.status for answer in answers]
    passed = statuses.index(429)
    # As on /api/auth/: the first request and a burst of 5 pass (one more if the loop was slow).
    assert passed in (6, 7), statuses
    assert 429 not in statuses[:passed] and set(statuses[passed:]) == {429}, statuses
    _nginx_error(answers[passed], 429, "Too many requests, try again in a minute.")
    assert answers[passed].header("Retry-After") == "60"
    assert harness.eventually(lambda: len(stack.web.requests("/admin/login/")) - before == passed)
    # Opening the sign-in form is not an attempt: never refused by this limit.
    assert _get(stack, "/admin/login/").status == 200


def test_production_answers_json_to_a_browser_and_keeps_the_docs_page(stack):
    """The browsable HTML API is for development (DEBUG) only: its forms are no second way in."""
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    response = _get(stack, "/api/posts/", browser)
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    docs = _get(stack, "/api/docs/", browser)
    assert docs.status == 200 and docs.header("Content-Type").startswith("text/html")
