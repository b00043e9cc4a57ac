"""Static files: collectstatic needs no database or real secret (it runs at image build), writes
hashed and pre-compressed files, and whitenoise serves them from gunicorn with far-future caching."""

import fcntl
import gzip
import json

import brotli
import pytest

from tests.config import support
from tests.e2e import harness

pytestmark = pytest.mark.e2e

ONE_YEAR = 365 * 24 * 60 * 60
SOURCE = "admin/css/base.css"


def _max_age(cache_control: str) -> int:
    directives = dict(part.strip().partition("=")[::2] for part in cache_control.split(","))
    return int(directives["max-age"])


@pytest.fixture(scope="session")
def static_root(tmp_path_factory, worker_id):
    """collectstatic as an image build runs it: the database unreachable, a throwaway key, no Redis.

    It compresses every file twice (a minute of CPU): done once per run, shared by the xdist workers.
    """
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    root = shared / "config-collectstatic"
    with (shared / "config-collectstatic.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "staticfiles.json").is_file():
            env = support.app_env(STATIC_ROOT=str(root), REDIS_URL=None)
            result = support.manage("collectstatic", "--noinput", env=env, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
            assert support.DB_PASSWORD not in result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def hashed_name(static_root):
    return json.loads((static_root / "staticfiles.json").read_text())["paths"][SOURCE]


def test_collectstatic_writes_hashed_and_compressed_files(static_root, hashed_name):
    assert hashed_name != SOURCE and hashed_name.startswith("admin/css/base.") and hashed_name.endswith(".css")
    original = (static_root / hashed_name).read_bytes()
    # The hashed copy's url() references point at hashed names too, so they can be cached for good as well.
    assert b'url("../img/icon-yes.' in original and b"url(../img/icon-yes.svg)" not in original
    assert gzip.decompress((static_root / f"{hashed_name}.gz").read_bytes()) == original
    assert brotli.decompress((static_root / f"{hashed_name}.br").read_bytes()) == original


@pytest.fixture(scope="module")
def web(static_root, tmp_path_factory):
    """gunicorn serving the collected files; its database is down, which static files never touch."""
    env = support.app_env(STATIC_ROOT=str(static_root), WEB_CONCURRENCY="1")
    with harness.Gunicorn.start(env, tmp_path_factory.mktemp("static-web")) as server:
        yield server


def test_a_hashed_file_is_cached_for_good(web, static_root, hashed_name):
    response = harness.request("GET", f"{web.url}/static/{hashed_name}")
    assert response.status == 200
    assert response.body == (static_root / hashed_name).read_bytes()
    cache_control = response.header("Cache-Control")
    assert "immutable" in cache_control and "public" in cache_control
    assert _max_age(cache_control) >= ONE_YEAR


def test_an_unhashed_name_is_cached_for_whitenoise_max_age_only(web):
    """A name that can change content must be revalidated some day: not immutable."""
    cache_control = harness.request("GET", f"{web.url}/static/{SOURCE}").header("Cache-Control")
    assert "immutable" not in cache_control
    assert _max_age(cache_control) == ONE_YEAR


@pytest.mark.parametrize(("accept", "decompress"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_the_precompressed_variant_is_served_to_those_accepting_it(web, static_root, hashed_name, accept, decompress):
    response = harness.request("GET", f"{web.url}/static/{hashed_name}", headers={"Accept-Encoding": accept})
    assert response.status == 200
    assert response.header("Content-Encoding") == accept
    assert "Accept-Encoding" in response.header("Vary")
    assert decompress(response.body) == (static_root / hashed_name).read_bytes()
