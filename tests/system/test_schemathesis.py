"""Schemathesis against the live app: every operation of the schema the app serves at
/api/schema/ is fuzzed through nginx in front of gunicorn (scripts/web), on the Postgres test
database, signed in with a real JWT; every answer must match that same schema.

Why: the contract tests (tests/unit/) check the cases someone thought of; this sends what nobody
did (wrong types, odd strings and offsets, missing fields, huge bodies, unexpected methods)
and holds the deployment to five promises: no 5xx, only documented status codes and content
types, bodies that match their documented schema, and a 4xx for every request the schema forbids
(negative_data_rejection: the API accepts exactly what its schema declares). Each failure it found is pinned down by
an ordinary in-process regression test in tests/unit/ ("Found by Schemathesis").

Reproducible: a fixed seed, Hypothesis derandomized and without an example database. For a
deeper look, raise MAX_EXAMPLES or change SEED locally.
"""

import re
import tempfile
import uuid
from pathlib import Path

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import external, harness

pytestmark = [pytest.mark.system, pytest.mark.django_db]

# Besides Schemathesis' own list: nginx refuses a body over 1 MiB (413) and a request line over
# 8 KiB (414) before anything reads them, both documented on the operations they concern.
NEGATIVE_DATA_STATUSES = [400, 401, 403, 404, 405, 406, 409, 413, 414, 415, 422, 428, 429, "5xx"]


@schemathesis.check
def schema_violating_request_rejected(ctx, response, case):
    """negative_data_rejection, for the requests that reached the app as generated: this module sends
    its own Authorization header (the only header parameter, through the bearer scheme) and swaps
    path ids for known ones (_mostly), so an invalid value there never left the machine."""
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative:
        negative = {location for location, component in meta.components.items() if component.mode.is_negative}
        path_ids_valid = all(
            isinstance(value, int) and not isinstance(value, bool) for value in (case.path_parameters or {}).values()
        )
        replaced = {ParameterLocation.HEADER} | ({ParameterLocation.PATH} if path_ids_valid else set())
        if negative and negative <= replaced:
            return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    # Requests the schema forbids (a number where it says string, `page_size=null`) get a 4xx.
    schema_violating_request_rejected,
]
MAX_EXAMPLES = 40  # per operation, in the fuzzing phase (the examples and coverage phases add their own)
SEED = 20250101
# The production default redirects plain HTTP: say what the TLS terminator in front would.
HTTPS = {"X-Forwarded-Proto": "https"}
PASSWORD = "fuzzing-the-contract-2025"
# The example database is off (see api_schema), but Hypothesis still caches constants and Unicode
# tables, by default in ./.hypothesis: not in the checkout. Set on import, because its pytest
# plugin writes the first of them while collecting this module.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "blog-api-hypothesis")
# nginx.conf limits /api/auth/ to 10 requests a minute per address: through nginx nearly every
# generated auth request would be its (documented) 429, so those go to gunicorn directly.
DIRECT = "/api/auth/"


@pytest.fixture(scope="module")
def stack(django_db_setup):
    env = harness.app_env(
        harness.live_database_url(),
        SECURE_SSL_REDIRECT="true",
        # The app's throttles would answer most requests with a (documented) 429 and hide the app.
        THROTTLE_ANON_RATE="100000/min",
        THROTTLE_USER_RATE="100000/min",
        THROTTLE_AUTH_RATE="100000/min",
    )
    with harness.live_stack(env, external.executable("nginx")) as live:
        yield live


def _base_url(stack, path: str) -> str:
    return stack.web.url if path.startswith(DIRECT) else stack.nginx.url


def _call(stack, method, path, access=None, json_body=None):
    headers = {**HTTPS, **({"Authorization": f"Bearer {access}"} if access else {})}
    response = harness.request(method, _base_url(stack, path) + path, headers=headers, json_body=json_body)
    assert 200 <= response.status < 300, (method, path, response.status, response.body[:500])
    return response.json() if response.body else None


def _register(stack, prefix):
    credentials = {"username": f"{prefix}-{uuid.uuid4().hex[:8]}", "password": PASSWORD}
    user = _call(stack, "POST", "/api/auth/register/", json_body=credentials)
    return user, _call(stack, "POST", "/api/auth/token/", json_body=credentials)["access"]


def _post(stack, access, title, publish=False):
    post = _call(stack, "POST", "/api/posts/", access, {"title": title, "body": f"The body of {title}."})
    if publish:
        _call(stack, "POST", f"/api/posts/{post['id']}/publish/", access)
    return post["id"]


def _comment(stack, access, post_id):
    comment = _call(stack, "POST", f"/api/posts/{post_id}/comments/", access, {"body": "A comment."})
    return {"post_pk": post_id, "id": comment["id"]}


def _ids(name, values):
    return [{name: value} for value in values]


@pytest.fixture(scope="module")
def account(stack, django_db_blocker):
    """Users registered through the live API with real tokens, and rows made through the API for
    the fuzzer to hit: `paths` maps an operation to path parameters naming existing objects
    (own, someone else's, drafts), `bodies` to request bodies naming them.

    DELETE runs as a user of its own (`deleter`) who owns the rows made to be deleted: a random
    id that happens to name one of the main user's rows (small ids, on a fresh database, are
    the likeliest) then gets a 403 instead of deleting it from under the other operations.
    Every row the run wrote (the fuzzer registers users too) is removed afterwards."""
    User = get_user_model()
    with django_db_blocker.unblock():
        last_user = User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        me, access = _register(stack, "fuzz")
        author, author_access = _register(stack, "author")
        deleter, deleter_access = _register(stack, "deleter")
        # Followed before the author publishes: that publish notifies `me` (tasks run in-process).
        follow = _call(stack, "POST", "/api/subscriptions/", access, {"author": author["id"]})["id"]
        doomed_follow = _call(stack, "POST", "/api/subscriptions/", deleter_access, {"author": author["id"]})["id"]
        mine, my_draft = _post(stack, access, "Mine", publish=True), _post(stack, access, "My draft")
        theirs, their_draft = _post(stack, author_access, "Theirs", publish=True), _post(stack, author_access, "Draft")
        posts = [mine, my_draft, theirs, their_draft]
        doomed_posts = [_post(stack, deleter_access, f"Doomed {n}") for n in range(3)]
        # Mine on my post and on theirs; theirs on mine (403 to edit).
        comments = [_comment(stack, access, mine), _comment(stack, access, theirs)]
        comments.append(_comment(stack, author_access, mine))
        doomed_comments = [_comment(stack, deleter_access, mine) for _ in range(3)]
        notifications = [item["id"] for item in _call(stack, "GET", "/api/notifications/", access)["results"]]
        assert notifications, "the author's publish notified nobody"
        paths = {
            ("GET", "/api/posts/{id}/"): _ids("id", posts),
            ("PUT", "/api/posts/{id}/"): _ids("id", posts),
            ("PATCH", "/api/posts/{id}/"): _ids("id", posts),
            ("DELETE", "/api/posts/{id}/"): _ids("id", [*doomed_posts, mine]),
            ("POST", "/api/posts/{id}/publish/"): _ids("id", posts),
            ("GET", "/api/posts/{post_pk}/comments/"): _ids("post_pk", posts),
            ("POST", "/api/posts/{post_pk}/comments/"): _ids("post_pk", posts),
            ("GET", "/api/posts/{post_pk}/comments/{id}/"): comments,
            ("PUT", "/api/posts/{post_pk}/comments/{id}/"): comments,
            ("PATCH", "/api/posts/{post_pk}/comments/{id}/"): comments,
            ("DELETE", "/api/posts/{post_pk}/comments/{id}/"): [*doomed_comments, comments[0]],
            ("GET", "/api/subscriptions/{id}/"): _ids("id", [follow]),
            ("DELETE", "/api/subscriptions/{id}/"): _ids("id", [doomed_follow, follow]),
            ("GET", "/api/notifications/{id}/"): _ids("id", notifications),
            ("POST", "/api/notifications/{id}/read/"): _ids("id", notifications),
        }
        # A new follow, one already made, and oneself.
        bodies = {("POST", "/api/subscriptions/"): _ids("author", [deleter["id"], author["id"], me["id"]])}
        yield {"access": access, "deleter_access": deleter_access, "paths": paths, "bodies": bodies}
    finally:
        with django_db_blocker.unblock():
            created = User.objects.filter(pk__gt=last_user)
            OutstandingToken.objects.filter(user__in=created).delete()  # SET_NULL otherwise: they would stay
            created.delete()  # and with them their posts, comments, follows and notifications


def _mostly(known):
    """A hook that swaps a generated value for a known one three times in four: random ids are
    nearly always a 404, which would leave everything behind the lookup unexercised."""

    def hook(context, generated):
        choices = known.get((context.operation.method.upper(), context.operation.path))
        if not choices:
            return st.just(generated)
        return st.integers(0, 3).flatmap(lambda pick: st.sampled_from(choices) if pick else st.just(generated))

    return hook


@pytest.fixture(scope="module")
def api_schema(stack, account):
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": HTTPS,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {"negative_data_rejection": {"expected-statuses": NEGATIVE_DATA_STATUSES}},
        }
    )
    loaded = schemathesis.openapi.from_url(stack.nginx.url + "/api/schema/", config=config, headers=HTTPS)
    loaded.hook("flatmap_path_parameters")(_mostly(account["paths"]))
    loaded.hook("flatmap_body")(_mostly(account["bodies"]))
    start = len(stack.nginx.requests("/api/"))
    yield loaded
    # Checked once the whole run is over: a run where every call came back 401 or 404 (a broken
    # token, ids that never match) would satisfy every check while testing next to nothing.
    fuzzed = stack.nginx.requests("/api/")[start:]
    assert fuzzed, "nothing reached nginx"
    assert not [line for line in fuzzed if line.status == 401], "the access token was refused"
    assert not _unreached(loaded, fuzzed), "operations the fuzzing never got a 2xx from"


def _unreached(schema, logged) -> list[str]:
    """Operations (but the auth ones, sent to gunicorn and mostly needing a secret the fuzzer
    cannot know) without a single 2xx in nginx's access log."""
    succeeded = [(line.method, line.path.split("?")[0]) for line in logged if 200 <= line.status < 300]
    unreached = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(DIRECT):
            continue
        pattern = re.compile(re.sub(r"\{\w+\}", r"\\d+", operation.path) + "$")
        if not any(method == operation.method.upper() and pattern.match(path) for method, path in succeeded):
            unreached.append(operation.label)
    return unreached


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request):
    # schemathesis 4.32's lazy schema reads and renames `node._nodeid`, which pytest 9.2 nodes
    # no longer have (an AttributeError before any call); it only names the per-operation reports.
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_the_schema_says(case, stack, account):
    # DELETE as a user of its own (see account), everything else as the main user.
    access = account["deleter_access" if case.method.upper() == "DELETE" else "access"]
    case.call_and_validate(
        base_url=_base_url(stack, case.path), headers={"Authorization": f"Bearer {access}"}, checks=CHECKS
    )
