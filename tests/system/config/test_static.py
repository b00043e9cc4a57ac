"""Static files: collectstatic needs no database or real secret (it runs at image build), writes
hashed and pre-compressed files, and whitenoise serves them from gunicorn with far-future caching."""

import gzip
import json

import brotli
import pytest

from tests.support import child, harness

pytestmark = pytest.mark.system

ONE_YEAR = 365 * 24 * 60 * 60
SOURCE = "admin/css/base.css"


def _max_age(cache_control: str) -> int:
    directives = dict(part.strip().partition("=")[::2] for part in cache_control.split(","))
    return int(directives["max-age"])


@pytest.fixture(scope="module")
def hashed_name(collected_static):
    return json.loads((collected_static / "staticfiles.json").read_text())["paths"][SOURCE]


def test_collectstatic_writes_hashed_and_compressed_files(collected_static, hashed_name):
    assert hashed_name != SOURCE and hashed_name.startswith("admin/css/base.") and hashed_name.endswith(".css")
    original = (collected_static / hashed_name).read_bytes()
    # The hashed copy's url() references point at hashed names too, so they can be cached for good as well.
    assert b'url("../img/icon-yes.' in original and b"url(../img/icon-yes.svg)" not in original
    assert gzip.decompress((collected_static / f"{hashed_name}.gz").read_bytes()) == original
    assert brotli.decompress((collected_static / f"{hashed_name}.br").read_bytes()) == original


@pytest.fixture(scope="module")
def web(collected_static, tmp_path_factory):
    """gunicorn serving the collected files; its database is down, which static files never touch."""
    env = child.app_env(STATIC_ROOT=str(collected_static), WEB_CONCURRENCY="1")
    with harness.Gunicorn.start(env, tmp_path_factory.mktemp("static-web")) as server:
        yield server


def test_a_hashed_file_is_cached_for_good(web, collected_static, hashed_name):
    response = harness.request("GET", f"{web.url}/static/{hashed_name}")
    assert response.status == 200
    assert response.body == (collected_static / hashed_name).read_bytes()
    cache_control = response.header("Cache-Control")
    assert "immutable" in cache_control and "public" in cache_control
    assert _max_age(cache_control) >= ONE_YEAR


def test_an_unhashed_name_is_cached_for_whitenoise_max_age_only(web):
    """A name that can change content must be revalidated some day: not immutable."""
    cache_control = harness.request("GET", f"{web.url}/static/{SOURCE}").header("Cache-Control")
    assert "immutable" not in cache_control
    assert _max_age(cache_control) == ONE_YEAR


@pytest.mark.parametrize(("accept", "decompress"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_the_precompressed_variant_is_served_to_those_accepting_it(
    web, collected_static, hashed_name, accept, decompress
):
    response = harness.request("GET", f"{web.url}/static/{hashed_name}", headers={"Accept-Encoding": accept})
    assert response.status == 200
    assert response.header("Content-Encoding") == accept
    assert "Accept-Encoding" in response.header("Vary")
    assert decompress(response.body) == (collected_static / hashed_name).read_bytes()
