"""The platforms' JSON Schemas the manifests are validated against, found without ../shared.

Looked up, in order:
1. DEPLOY_SCHEMAS_DIR, when set: a folder of NAME.schema.json files (a machine without network);
2. ../shared/schemas beside the repository, when present (this project's CI machines);
3. a cache folder (~/.cache/blog-api/deploy-schemas, or under XDG_CACHE_HOME), filled on first
   use: the schemas check-jsonschema vendors are copied from the installed package (pinned by
   uv.lock), the others downloaded from the platforms' published URLs.
Only an offline machine with neither of the first two skips (and fails under CI=true).
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import check_jsonschema

from tests.support.external import ROOT, unavailable

SHARED = ROOT.parent / "shared" / "schemas"
# Published by the platforms (../shared/schemas/SOURCES.md says which copy each file there is).
PUBLISHED = {
    "fly": "https://www.schemastore.org/fly.json",
    "render": "https://render.com/schema/render.yaml.json",
    "railway": "https://railway.com/railway.schema.json",
}
# Vendored by check-jsonschema: the same files as ../shared/schemas holds, no download needed.
VENDORED = {
    "github-workflow": "github-workflows.json",
    "compose-spec": "compose-spec.json",
}
DOWNLOAD_TIMEOUT = 20


class SchemaUnavailable(Exception):
    """A schema could be neither found nor fetched; the message says why and what to do."""


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "blog-api" / "deploy-schemas"


def directory(*, shared: Path = SHARED, cache: Path | None = None) -> Path:
    """The folder schemas are read from: DEPLOY_SCHEMAS_DIR, else ../shared/schemas, else the cache."""
    if os.environ.get("DEPLOY_SCHEMAS_DIR"):
        return Path(os.environ["DEPLOY_SCHEMAS_DIR"])
    if shared.is_dir():
        return shared
    return cache or cache_dir()


def schema(name: str, *, shared: Path = SHARED, cache: Path | None = None, urls: dict[str, str] = PUBLISHED) -> Path:
    """The path of NAME.schema.json, fetched into the cache first when needed; skips (fails in CI) if it cannot be."""
    cache = cache or cache_dir()
    folder = directory(shared=shared, cache=cache)
    path = folder / f"{name}.schema.json"
    if path.exists():
        return path
    if folder != cache:
        unavailable(f"schema {path} is missing (DEPLOY_SCHEMAS_DIR or ../shared/schemas has no {path.name})")
    try:
        return fetch(name, cache, urls=urls)
    except SchemaUnavailable as exc:
        unavailable(str(exc))  # skips, or fails under CI=true


def fetch(name: str, folder: Path, *, urls: dict[str, str] = PUBLISHED) -> Path:
    """Put NAME.schema.json into folder: copied from check-jsonschema's vendored schemas, or downloaded."""
    if name in VENDORED:
        source = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / VENDORED[name]
        return _store(folder, name, source.read_bytes())
    if name not in urls:
        raise SchemaUnavailable(f"no published URL is known for the {name} schema")
    url = urls[name]
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            body = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise SchemaUnavailable(
            f"offline? the {name} schema could not be downloaded from {url} ({exc}); set DEPLOY_SCHEMAS_DIR to a "
            f"folder holding {name}.schema.json, or put the file in {folder}"
        ) from None
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        # A captive portal's or a proxy's HTML page must not be cached as a schema.
        raise SchemaUnavailable(f"{url} did not answer with a JSON Schema (got {body[:60]!r}...)")
    return _store(folder, name, body)


def _store(folder: Path, name: str, body: bytes) -> Path:
    """Write atomically: parallel test workers may fetch the same schema at once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.schema.json"
    with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", delete=False) as partial:
        partial.write(body)
    os.replace(partial.name, path)
    return path


def validate(schema: Path, instance: Path) -> subprocess.CompletedProcess:
    """check-jsonschema's verdict on instance (TOML, YAML or JSON) against schema."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(instance)],
        capture_output=True,
        text=True,
        timeout=120,
    )
