"""A clone with nothing beside it still validates the manifests: the platform schemas are looked up
in DEPLOY_SCHEMAS_DIR, then ../shared/schemas, then a cache filled from the published URLs, here
served by a real HTTP server on loopback in place of the platforms' sites."""

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from tests.support import schemas
from tests.support.external import ROOT, free_port

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
RAILWAY = ROOT / "railway.json"


class _Site:
    """A static HTTP server over a folder, counting the requests it answers."""

    def __init__(self, folder: Path):
        self.requests: list[str] = []
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder))
        )
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# A subset of Railway's config-as-code schema (used only when ../shared is absent): enough to
# tell a valid railway.json from one with a misspelled field.
_RAILWAY_SUBSET = json.dumps(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "$schema": {"type": "string"},
            "build": {"type": "object"},
            "deploy": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    key: {}
                    for key in [
                        "startCommand",
                        "preDeployCommand",
                        "healthcheckPath",
                        "healthcheckTimeout",
                        "restartPolicyType",
                        "restartPolicyMaxRetries",
                        "numReplicas",
                        "overlapSeconds",
                        "drainingSeconds",
                        "sleepApplication",
                        "cronSchedule",
                        "region",
                        "multiRegionConfig",
                    ]
                },
            },
        },
    }
)


@pytest.fixture
def published(tmp_path):
    """The platforms' published schemas, on loopback: ../shared/schemas's copies when present, and
    in any case a railway.schema.json written here, strict on unknown keys as Railway's is."""
    folder = tmp_path / "published"
    folder.mkdir()
    if schemas.SHARED.is_dir():
        for path in schemas.SHARED.glob("*.schema.json"):
            shutil.copy(path, folder / path.name)
    else:
        (folder / "railway.schema.json").write_text(_RAILWAY_SUBSET)
    (folder / "not-a-schema.html").write_text("<html><body>Sign in to the hotel Wi-Fi</body></html>")
    with _Site(folder) as site:
        site.urls = {name: f"{site.base}/{name}.schema.json" for name in schemas.PUBLISHED}
        yield site


@pytest.fixture
def fresh_clone(monkeypatch, tmp_path):
    """What a user's clone sees: no DEPLOY_SCHEMAS_DIR, no ../shared, an empty cache."""
    monkeypatch.delenv("DEPLOY_SCHEMAS_DIR", raising=False)
    return {"shared": tmp_path / "no-shared", "cache": tmp_path / "cache"}


def test_the_lookup_order_is_the_variable_then_shared_then_the_cache(monkeypatch, tmp_path):
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    monkeypatch.delenv("DEPLOY_SCHEMAS_DIR", raising=False)
    assert schemas.directory(shared=shared, cache=cache) == cache
    shared.mkdir()
    assert schemas.directory(shared=shared, cache=cache) == shared
    monkeypatch.setenv("DEPLOY_SCHEMAS_DIR", str(tmp_path / "offline"))
    assert schemas.directory(shared=shared, cache=cache) == tmp_path / "offline"


def test_the_cache_is_under_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert schemas.cache_dir() == tmp_path / "blog-api" / "deploy-schemas"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert schemas.cache_dir() == Path.home() / ".cache" / "blog-api" / "deploy-schemas"


def test_a_missing_schema_is_downloaded_once_and_validates_the_manifest(fresh_clone, published):
    path = schemas.schema("railway", **fresh_clone, urls=published.urls)
    assert path == fresh_clone["cache"] / "railway.schema.json"
    assert published.requests == ["/railway.schema.json"]
    assert schemas.validate(path, RAILWAY).returncode == 0, (
        "railway.json does not validate against the downloaded schema"
    )
    broken = fresh_clone["cache"].parent / "railway.json"
    broken.write_text(RAILWAY.read_text().replace('"healthcheckPath"', '"healthCheckPath"'))
    assert schemas.validate(path, broken).returncode != 0, "the downloaded schema accepted a misspelled field"

    assert schemas.schema("railway", **fresh_clone, urls=published.urls) == path
    assert published.requests == ["/railway.schema.json"], "a cached schema was downloaded again"


@pytest.mark.parametrize("name", sorted(schemas.VENDORED))
def test_vendored_schemas_come_from_the_installed_check_jsonschema_without_a_download(name, fresh_clone, published):
    path = schemas.schema(name, **fresh_clone, urls=published.urls)
    assert path == fresh_clone["cache"] / f"{name}.schema.json"
    assert not published.requests
    if name == "github-workflow":
        assert schemas.validate(path, WORKFLOW).returncode == 0


def test_an_answer_that_is_not_json_is_refused_and_not_cached(fresh_clone, published):
    urls = {"railway": f"{published.base}/not-a-schema.html"}
    with pytest.raises(schemas.SchemaUnavailable, match="did not answer with a JSON Schema"):
        schemas.fetch("railway", fresh_clone["cache"], urls=urls)
    assert not list(fresh_clone["cache"].glob("*.json"))


def test_offline_the_reason_names_the_url_and_the_way_out(fresh_clone):
    url = f"http://127.0.0.1:{free_port()}/railway.schema.json"  # nothing listens there
    with pytest.raises(schemas.SchemaUnavailable) as raised:
        schemas.fetch("railway", fresh_clone["cache"], urls={"railway": url})
    assert url in str(raised.value) and "DEPLOY_SCHEMAS_DIR" in str(raised.value)
    # The test itself is then skipped with that reason, or failed under CI=true (tests/support/external.py).
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception), match="could not be downloaded"):
        schemas.schema("railway", **fresh_clone, urls={"railway": url})
