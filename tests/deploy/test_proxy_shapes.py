"""Each deployment shape's proxy settings: the values docs/security.md ("Deployment shapes")
gives are the ones its manifest sets, and with them the throttles count the address the shape's
outermost proxy saw, not one a client wrote into X-Forwarded-For.

The shapes that run here are also tested live: tests/system/test_deployment_shapes.py."""

import re

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import BaseThrottle

from tests.support import child, manifests
from tests.support.external import ROOT

SECURITY_DOC = ROOT / "docs" / "security.md"
SETTINGS = ("NUM_PROXIES", "FORWARDED_ALLOW_IPS")
CLIENT, FORGED, EDGE = "203.0.113.9", "10.9.8.7", "66.241.124.1"

# What each shape's proxies put in X-Forwarded-For for a client that sent its own made-up one,
# as each documents it (docs/security.md cites the pages).
FORWARDED_FOR = {
    "Direct": None,  # nothing in front: the client's header reaches gunicorn as it wrote it
    "Compose": f"{FORGED}, {CLIENT}",  # nginx: $proxy_add_x_forwarded_for
    "Fly.io": f"{FORGED}, {CLIENT}, {EDGE}",  # the client, then the app's own IP, rightmost
    "Render": f"{FORGED}, {CLIENT}",
    "Railway": f"{FORGED}, {CLIENT}",
    "Procfile": f"{FORGED}, {CLIENT}",
}


def documented_shapes() -> dict[str, dict[str, str]]:
    """The "Deployment shapes" table: {shape: {NUM_PROXIES: ..., FORWARDED_ALLOW_IPS: ...}}."""
    text = SECURITY_DOC.read_text()
    section = text.split("## Deployment shapes", 1)[1].split("\n## ", 1)[0]
    shapes = {}
    for line in section.splitlines():
        match = re.match(r"\| \*\*(?P<shape>[^*]+)\*\*[^|]*\| `(?P<proxies>[^`]+)`[^|]*\| `(?P<allow>[^`]+)`", line)
        if match:
            shapes[match["shape"]] = {"NUM_PROXIES": match["proxies"], "FORWARDED_ALLOW_IPS": match["allow"]}
    return shapes


def _from_command_in(doc: str) -> dict[str, str]:
    text = (ROOT / doc).read_text()
    return {name: re.search(rf"'?{name}=([^\s']+)'?", text)[1] for name in SETTINGS}


def _defaults() -> dict[str, str]:
    loaded = child.settings_of(child.app_env(), "REST_FRAMEWORK", "FORWARDED_ALLOW_IPS")
    return {
        "NUM_PROXIES": str(loaded["REST_FRAMEWORK"]["NUM_PROXIES"]),
        "FORWARDED_ALLOW_IPS": loaded["FORWARDED_ALLOW_IPS"],
    }


def _render() -> dict[str, str]:
    variables = {var["key"]: var.get("value") for var in manifests.render_services()["web"]["envVars"] if "key" in var}
    return {name: variables.get(name) for name in SETTINGS}


# Where each shape's values are set: a manifest, or the platform page's command where the
# platform's config file cannot hold variables (railway.json, the Procfile).
MANIFEST_VALUES = {
    "Direct": _defaults,
    "Compose": lambda: {name: manifests.compose_value(manifests.compose_services()["web"], name) for name in SETTINGS},
    "Fly.io": lambda: {name: manifests.fly_config()["env"].get(name) for name in SETTINGS},
    "Render": _render,
    "Railway": lambda: _from_command_in("docs/platforms/railway.md"),
    "Procfile": lambda: _from_command_in("docs/platforms/procfile.md"),
}


def test_the_table_lists_every_shape():
    assert set(documented_shapes()) == set(MANIFEST_VALUES)


@pytest.mark.parametrize("shape", MANIFEST_VALUES)
def test_each_manifest_sets_the_proxy_settings_its_shape_needs(shape):
    documented = {name: value.removesuffix(" (default)") for name, value in documented_shapes()[shape].items()}
    assert MANIFEST_VALUES[shape]() == documented, f"{shape}: the manifest and docs/security.md disagree"


@pytest.mark.parametrize("shape", MANIFEST_VALUES)
def test_with_its_shapes_setting_a_made_up_x_forwarded_for_is_not_the_client(shape, settings):
    proxies = int(documented_shapes()[shape]["NUM_PROXIES"].removesuffix(" (default)"))
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    forwarded = FORWARDED_FOR[shape]
    # The connection's address: the client's own without a proxy, the nearest proxy's otherwise.
    peer = CLIENT if forwarded is None else "10.0.0.2"
    headers = {"HTTP_X_FORWARDED_FOR": forwarded or FORGED}
    request = APIRequestFactory().get("/api/posts/", REMOTE_ADDR=peer, **headers)
    assert BaseThrottle().get_ident(request) == CLIENT
