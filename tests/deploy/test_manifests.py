"""Each deployment manifest validates against its platform's schema (check-jsonschema), and
the schemas are strict enough to catch a misspelled field."""

from pathlib import Path

import pytest

from tests.support import manifests, schemas
from tests.support.external import ROOT

MANIFESTS = {
    "fly.toml": "fly",
    "render.yaml": "render",
    **{path.name: "railway" for path in manifests.railway_files()},
    ".github/workflows/ci.yml": "github-workflow",
}

# One misspelling per manifest, in a place its schema closes to unknown keys.
TYPOS = {
    "fly.toml": ("release_command =", "relase_command ="),
    "render.yaml": ("healthCheckPath:", "healthcheckPath:"),
    "railway.json": ('"healthcheckPath"', '"healthCheckPath"'),
    ".github/workflows/ci.yml": ("timeout-minutes:", "timeout_minutes:"),
}


def _schema(name: str) -> Path:
    return schemas.schema(name)


def test_every_railway_config_is_validated():
    assert {"railway.json", "railway.worker.json", "railway.beat.json"} <= set(MANIFESTS)


@pytest.mark.parametrize("manifest", MANIFESTS)
def test_manifest_validates_against_its_platform_schema(manifest):
    result = schemas.validate(_schema(MANIFESTS[manifest]), ROOT / manifest)
    assert result.returncode == 0, f"{manifest} does not validate:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("manifest", TYPOS)
def test_schema_rejects_a_misspelled_field(manifest, tmp_path):
    original, typo = TYPOS[manifest]
    text = (ROOT / manifest).read_text()
    assert original in text, f"{manifest} no longer contains {original!r}: update TYPOS"
    broken = tmp_path / Path(manifest).name
    broken.write_text(text.replace(original, typo, 1))
    result = schemas.validate(_schema(MANIFESTS[manifest]), broken)
    assert result.returncode != 0, f"the {MANIFESTS[manifest]} schema accepted {typo!r}"
