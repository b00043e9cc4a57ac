"""The OpenAPI contract: the committed snapshot equals the schema the code generates, the schema
validates without warnings, and it documents what clients rely on."""

import difflib
import subprocess

import jsonschema
import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from rest_framework.test import APIClient

from tests.support.external import ROOT, python

SNAPSHOT = ROOT / "schema.snapshot.yaml"
REFRESH = "scripts/schema"
HTTP_METHODS = {"get", "put", "patch", "post", "delete"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_schema_matches_committed_snapshot(schema):
    generated = OpenApiYamlRenderer().render(schema, renderer_context={}).decode()
    committed = SNAPSHOT.read_text()
    if generated != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                fromfile="schema.snapshot.yaml (committed)",
                tofile="schema generated from the code",
            )
        )
        pytest.fail(
            f"The API schema changed:\n\n{diff}\n"
            f"If the change is intended, refresh the snapshot with `{REFRESH}` and commit "
            "schema.snapshot.yaml in a commit of its own; otherwise fix the code.",
            pytrace=False,
        )


def test_spectacular_validates_without_warnings(tmp_path):
    # The same command as scripts/schema, in a fresh process: any warning or error fails it.
    result = subprocess.run(
        [python(), "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    assert (tmp_path / "s.yaml").read_text() == SNAPSHOT.read_text()


def test_every_operation_has_summary_tags_and_documented_errors(schema):
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("tags"), where
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), where
        for code, response in responses.items():
            if code[0] in "45":  # one component per status, of the one error shape
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": f"#/components/schemas/ErrorResponse{code}"
                }, (where, code)
        assert {"429", "500", "503"} <= responses.keys(), where
        assert "Retry-After" in responses["429"]["headers"], where
        assert "Retry-After" in responses["503"]["headers"], where
        if method in {"post", "put", "patch"} and "requestBody" in operation:
            assert "400" in responses, where
        if "{" in path:
            assert "404" in responses, where


def test_errors_are_documented_where_they_happen(schema):
    paths = schema["paths"]
    # Writes without credentials are refused; someone else's post is forbidden.
    for method in ("put", "patch", "delete"):
        assert {"401", "403", "404"} <= paths["/api/posts/{id}/"][method]["responses"].keys()
    assert {"401", "403", "404"} <= paths["/api/posts/{id}/publish/"]["post"]["responses"].keys()
    # Creating is not an object permission: no 403.
    assert "403" not in paths["/api/posts/"]["post"]["responses"]
    assert "403" not in paths["/api/posts/{post_pk}/comments/"]["post"]["responses"]
    # Invalid filters answer 400; a page past the end answers 404.
    assert {"400", "404"} <= paths["/api/posts/"]["get"]["responses"].keys()
    # Wrong credentials at sign-in answer 401.
    assert "401" in paths["/api/auth/token/"]["post"]["responses"]


def test_each_error_status_has_one_component_of_the_one_shape(schema):
    """No `oneOf` for a generated client to guess from: a 400 is an ErrorResponse400 whatever went
    wrong, told apart by `type` (and `attr` naming the input), each status its own type."""
    components = schema["components"]["schemas"]
    statuses = sorted(name.removeprefix("ErrorResponse") for name in components if name.startswith("ErrorResponse"))
    assert statuses == ["400", "401", "403", "404", "413", "414", "429", "500", "503"]
    enums = {name: components[name]["enum"] for name in components if name.endswith("TypeEnum")}
    assert enums == {
        "BadRequestTypeEnum": ["validation_error", "client_error"],
        "ClientErrorTypeEnum": ["client_error"],
        "ServerErrorTypeEnum": ["server_error"],
    }
    for status in statuses:
        response = components[f"ErrorResponse{status}"]
        assert "oneOf" not in response and response["required"] == ["errors", "type"], status
        item = components[f"Error{status}"]
        assert set(item["properties"]) == {"code", "detail", "attr"} and item["properties"]["attr"]["nullable"]


def test_operations_with_a_body_document_the_413_of_nginx(schema):
    # Found by Schemathesis through nginx, which refuses a body over 1 MiB with a JSON 413.
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        if "requestBody" in operation:
            too_large = responses["413"]["content"]["application/json"]["schema"]
            assert too_large == {"$ref": "#/components/schemas/ErrorResponse413"}, f"{method.upper()} {path}"
        else:
            assert "413" not in responses, f"{method.upper()} {path}"


def test_an_account_email_may_be_empty(schema):
    # Found by Schemathesis: an account registered without an email has "", which `format: email` refused.
    email = schema["components"]["schemas"]["User"]["properties"]["email"]
    validator = jsonschema.Draft4Validator(email, format_checker=jsonschema.FormatChecker())
    assert validator.is_valid("")
    assert validator.is_valid("ada@example.com")
    assert not validator.is_valid("no address")


def test_publish_auth_and_pagination_bodies_are_typed(schema):
    paths = schema["paths"]

    def body(operation, code):
        return operation["responses"][code]["content"]["application/json"]["schema"]

    publish = paths["/api/posts/{id}/publish/"]["post"]
    assert "requestBody" not in publish
    assert body(publish, "200") == {"$ref": "#/components/schemas/Post"}
    assert body(paths["/api/auth/register/"]["post"], "201") == {"$ref": "#/components/schemas/User"}
    assert body(paths["/api/auth/token/"]["post"], "200") == {"$ref": "#/components/schemas/TokenObtainPair"}
    assert body(paths["/api/auth/token/refresh/"]["post"], "200") == {"$ref": "#/components/schemas/TokenRefresh"}
    assert "content" not in paths["/api/auth/logout/"]["post"]["responses"]["204"]
    assert body(paths["/api/posts/"]["get"], "200") == {"$ref": "#/components/schemas/PaginatedPostList"}
    envelope = schema["components"]["schemas"]["PaginatedPostList"]["properties"]
    assert set(envelope) == {"count", "count_exact", "next", "previous", "results"}
    assert envelope["count_exact"]["type"] == "boolean"
    assert envelope["results"]["items"] == {"$ref": "#/components/schemas/Post"}


def test_posts_list_documents_filters_search_ordering_and_pagination(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/posts/"]["get"]["parameters"]}
    assert {"author", "published", "created_after", "created_before", "search", "ordering", "page", "page_size"} <= (
        parameters.keys()
    )
    assert parameters["author"]["schema"]["type"] == "integer"
    assert parameters["published"]["schema"]["type"] == "boolean"
    assert parameters["created_after"]["schema"] == {"type": "string", "format": "date-time"}
    assert set(parameters["ordering"]["schema"]["items"]["enum"]) == {
        "created_at",
        "-created_at",
        "published_at",
        "-published_at",
        "title",
        "-title",
        "rank",
        "-rank",
    }
    assert parameters["page"]["schema"]["type"] == "integer"
    assert "Full-text search" in parameters["search"]["description"]


def test_path_ids_are_integers(schema):
    comment = schema["paths"]["/api/posts/{post_pk}/comments/{id}/"]["get"]
    types = {p["name"]: p["schema"]["type"] for p in comment["parameters"] if p["in"] == "path"}
    assert types == {"post_pk": "integer", "id": "integer"}


def test_jwt_bearer_security_scheme(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert {"jwtAuth": []} in schema["paths"]["/api/posts/"]["post"]["security"]
    # No operation lists the bearer scheme as optional (`{}`): see the test below.
    assert not [op["operationId"] for _, _, op in operations(schema) if {} in op.get("security", [])]
    # Probes are plain Django views, deliberately outside the API contract.
    assert not {"/health/", "/ready/"} & schema["paths"].keys()


@pytest.mark.django_db
def test_docs_pages_reference_only_local_assets(client, settings):
    # Unhashed static URLs: the hashed ones need collectstatic, which the browser test runs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    for name in ("swagger-ui", "redoc"):
        response = client.get(reverse(name), secure=True)
        page = response.content.decode()
        assert "/static/drf_spectacular_sidecar/" in page, name
        assert "http://" not in page and "https://" not in page, name
        # The browser itself refuses anything but the app's own origin (and inline data: images).
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        assert policy["default-src"] == "'self'" and policy["img-src"] == "'self' data:", policy
        assert "'unsafe-inline'" not in policy.get("script-src", policy["default-src"]), policy
    script = client.get(reverse("swagger-ui"), {"script": ""}, secure=True)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "validatorUrl" in script.content.decode()
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json", secure=True)
    assert schema.status_code == 200
    assert "/api/posts/{id}/publish/" in schema.json()["paths"]


def test_operations_anyone_may_call_have_no_security_requirement(schema):
    """openapi-python-client types an operation with any `security` (even `[{}]`, "optional") as
    needing its AuthenticatedClient, which cannot be built without a token: registering or reading
    posts anonymously then needs a `type: ignore`. Without `security`, its plain Client works (and
    an AuthenticatedClient still sends its token, so a signed-in reader sees their drafts)."""
    public = {op["operationId"] for _, _, op in operations(schema) if "security" not in op}
    assert public == {
        "auth_register",
        "auth_sign_in",
        "auth_refresh",
        "auth_verify",
        "auth_email_verify",
        "posts_list",
        "posts_retrieve",
        "posts_comments_list",
        "posts_comments_retrieve",
    }
    for _, _, operation in operations(schema):
        if "security" in operation:
            assert operation["security"] == [{"jwtAuth": []}, {"cookieAuth": []}], operation["operationId"]
            assert "401" in operation["responses"], operation["operationId"]


def test_operation_ids_are_the_names_a_person_would_write(schema):
    # Generated clients name their functions after these (auth_sign_in.sync, posts_publish.sync).
    assert {op["operationId"] for _, _, op in operations(schema)} == {
        "auth_register",
        "auth_sign_in",
        "auth_refresh",
        "auth_verify",
        "auth_sign_out",
        "auth_email_verify",
        "auth_email_resend",
        "auth_me",
        "auth_me_partial_update",
        "posts_list",
        "posts_create",
        "posts_retrieve",
        "posts_update",
        "posts_partial_update",
        "posts_destroy",
        "posts_publish",
        "posts_comments_list",
        "posts_comments_create",
        "posts_comments_retrieve",
        "posts_comments_update",
        "posts_comments_partial_update",
        "posts_comments_destroy",
        "subscriptions_list",
        "subscriptions_create",
        "subscriptions_retrieve",
        "subscriptions_destroy",
        "notifications_list",
        "notifications_retrieve",
        "notifications_read",
        "notifications_read_all",
    }


def test_ordering_is_documented_as_generated_clients_send_it(schema):
    """An array sent repeated (form style, exploded: OpenAPI's default, which openapi-python-client
    and openapi-fetch use whatever the schema says), with member names for generated enums."""
    (ordering,) = [p for p in schema["paths"]["/api/posts/"]["get"]["parameters"] if p["name"] == "ordering"]
    assert ordering.get("explode", True) is True and ordering.get("style", "form") == "form"
    items = ordering["schema"]["items"]
    assert dict(zip(items["enum"], items["x-enum-varnames"], strict=True)) == {
        "created_at": "ORDERING_CREATED_AT",
        "-created_at": "ORDERING_CREATED_AT_DESC",
        "published_at": "ORDERING_PUBLISHED_AT",
        "-published_at": "ORDERING_PUBLISHED_AT_DESC",
        "title": "ORDERING_TITLE",
        "-title": "ORDERING_TITLE_DESC",
        "rank": "ORDERING_RANK",
        "-rank": "ORDERING_RANK_DESC",
    }


def test_every_paginated_list_documents_its_400(schema):
    # Found by Schemathesis: `?page_size=0` on a list without filters was an undocumented 400.
    for path, method, operation in operations(schema):
        if any(p["name"] == "page_size" for p in operation.get("parameters", [])):
            assert "400" in operation["responses"], f"{method.upper()} {path}"


def test_page_and_page_size_are_integers_from_1(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/posts/"]["get"]["parameters"]}
    assert parameters["page"] == parameters["page_size"] == {"type": "integer", "minimum": 1}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/posts/", "/api/subscriptions/", "/api/notifications/"])
def test_a_list_envelope_requires_every_key_an_answer_carries(schema, path, user):
    """Nullable is not optional: a key every answer carries (`next` is null on the last page) is
    required, or generated clients type it as possibly missing (Unset, `?:`)."""
    client = APIClient()
    client.force_authenticate(user=user)
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(response.json()) == set(component["properties"]) == set(component["required"])
