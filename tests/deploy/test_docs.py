"""The docs cannot drift from the code: every variable the settings read is on the configuration
page, every relative link and every repository path the README and docs/ name exists, and every
test the docs cite as proof exists."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.external import ROOT

DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
# Variables the platforms set themselves (Fly.io, Render, Railway); the settings react to some of
# them. Each one the settings read must be in the configuration page's platform-set table too.
PLATFORM_VARIABLES = {
    "PORT",
    "FLY_APP_NAME",
    "FLY_IMAGE_REF",
    "RENDER_EXTERNAL_HOSTNAME",
    "RENDER_GIT_COMMIT",
    "RAILWAY_PUBLIC_DOMAIN",
    "RAILWAY_GIT_COMMIT_SHA",
}
# Read by Python, Django or the test process itself, not a setting of the project.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}

# Run in a fresh interpreter: os.environ is replaced by a mapping that records every name looked
# up, before django or environ are imported (django-environ keeps a reference to os.environ in
# Env.ENVIRON at import). A name counts when the code that looks it up is the project's own or
# django-environ reading on its behalf, so the variables a library reads for itself (Sentry's
# SENTRY_* during sentry_sdk.init, say) are not taken for settings. Then the settings module is
# imported by its dotted name, whatever its file layout (one module or a package).
RECORDER = r"""
import json, os, sys
from collections.abc import MutableMapping

root, module = sys.argv[1], sys.argv[2]
read = set()
# os.getenv and Mapping.get look the name up on the caller's behalf: the caller is the reader.
LOOKUP_HELPERS = ("/os.py", "<frozen os>", "_collections_abc.py", "<frozen _collections_abc>")


def _recorded(key):
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.endswith(LOOKUP_HELPERS):
        frame = frame.f_back
    filename = frame.f_code.co_filename if frame else ""
    own = filename.startswith(root) and "/.venv/" not in filename and "/site-packages/" not in filename
    if own or "/environ/" in filename:
        read.add(key)


class Recording(MutableMapping):
    def __init__(self, data):
        self._data = dict(data)

    def __getitem__(self, key):
        _recorded(key)
        return self._data[key]

    def __contains__(self, key):
        _recorded(key)
        return key in self._data

    def get(self, key, default=None):
        _recorded(key)
        return self._data.get(key, default)

    def __setitem__(self, key, value):
        self._data[key] = value

    def __delitem__(self, key):
        del self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def copy(self):
        return dict(self._data)


os.environ = Recording(os.environ)
sys.path.insert(0, root)
import importlib

importlib.import_module(module)
print("READ " + json.dumps(sorted(read)))
"""

SECRET = "docs-test-only-secret-" + "k" * 40
JWT_KEY = "docs-test-only-jwt-key-" + "j" * 40
# Each variant makes the settings take other branches, so that conditional reads are seen too.
VARIANTS = {
    "embedded, debug": {"DEBUG": "true"},
    "production defaults": {"DEBUG": "false", "SECRET_KEY": SECRET, "JWT_SIGNING_KEY": JWT_KEY},
    "production with services": {
        "DEBUG": "false",
        "SECRET_KEY": SECRET,
        "JWT_SIGNING_KEY": JWT_KEY,
        "DATABASE_URL": "postgres://blog:password@127.0.0.1:5432/blog",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SENTRY_DSN": "https://public@127.0.0.1/1",
        "FLY_APP_NAME": "blog-api",
        "FLY_IMAGE_REF": "registry.fly.io/blog-api:deployment-1",
        "RENDER_EXTERNAL_HOSTNAME": "blog.onrender.com",
        "RAILWAY_PUBLIC_DOMAIN": "blog.up.railway.app",
        "BENCH_BASELINE_ENABLED": "true",
    },
}


def _settings_module() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"][
        "DJANGO_SETTINGS_MODULE"
    ]


def _variables_read(variables: dict[str, str]) -> set[str]:
    # A clean environment: only what the interpreter needs, and the variant's variables.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path.home()), **variables}
    result = subprocess.run(
        [sys.executable, "-c", RECORDER, str(ROOT), _settings_module()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"the settings did not load with {variables}:\n{result.stderr[-3000:]}"
    line = next(line for line in result.stdout.splitlines() if line.startswith("READ "))
    return set(json.loads(line.removeprefix("READ "))) - NOT_SETTINGS


@pytest.fixture(scope="module")
def variables_read() -> set[str]:
    read = set()
    for variables in VARIANTS.values():
        read |= _variables_read(variables)
    return read


def _table_variables(text: str) -> set[str]:
    """Names in the first column of the page's tables: | `NAME` | ..."""
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, re.MULTILINE))


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_recorder_sees_the_variables_the_settings_read_conditionally():
    """The variants are needed: without Postgres no timeout is read, without a DSN no Sentry release."""
    assert {"SECRET_KEY", "DEBUG", "DATABASE_URL", "LOG_LEVEL"} <= _variables_read(VARIANTS["embedded, debug"])
    assert "DB_CONNECT_TIMEOUT" not in _variables_read(VARIANTS["embedded, debug"])
    assert "DB_CONNECT_TIMEOUT" in _variables_read(VARIANTS["production with services"])


def test_every_variable_the_settings_read_is_on_the_configuration_page(variables_read):
    text = CONFIGURATION.read_text()
    missing = sorted(name for name in variables_read if f"`{name}`" not in text)
    assert not missing, f"read by the settings, missing from docs/configuration.md: {missing}"


def test_the_configuration_page_documents_no_variable_the_settings_do_not_read(variables_read):
    stale = sorted(_table_variables(CONFIGURATION.read_text()) - variables_read)
    assert not stale, f"in docs/configuration.md's tables, read by nothing: {stale}"


def test_every_platform_variable_the_settings_read_is_in_the_platform_table(variables_read):
    table = _table_variables(_section(CONFIGURATION.read_text(), "Variables the platforms set"))
    missing = sorted((variables_read & PLATFORM_VARIABLES) - table)
    assert not missing, f"set by a platform, read by the settings, missing from the platform-set table: {missing}"


# --- Links and paths ----------------------------------------------------------------------------
LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`(?P<code>[^`\n]+)`")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
# A token in backticks that names a repository file or folder: it starts with a top-level entry
# of the repository (tests/..., config/..., scripts/web, .ci/run, docs/...) and has a slash.
REPOSITORY_PATH = re.compile(r"^(?:\./)?(?P<path>[A-Za-z0-9_.][\w.-]*/[\w./-]*)(?:::(?P<test>\w+))?$")


def _top_level_names() -> set[str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {line.split("/", 1)[0] for line in tracked.splitlines() if "/" in line}


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as dashes."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text()), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def _relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())
    return [
        match["target"]
        for match in LINK.finditer(text)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", match["target"])  # http:, https:, mailto:
    ]


def _repository_paths(page: Path) -> list[tuple[str, str | None]]:
    top = _top_level_names()
    found = []
    for match in CODE_SPAN.finditer(FENCE.sub("", page.read_text())):
        token = REPOSITORY_PATH.match(match["code"].strip())
        if token and token["path"].split("/", 1)[0] in top and not re.search(r"[*<{$]", token["path"]):
            found.append((token["path"].removeprefix("./"), token["test"]))
    return found


def test_the_docs_are_there():
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"README.md", "docs/configuration.md", "docs/production-checklist.md", "docs/operations.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file_that_exists(page):
    broken = []
    for target in _relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_repository_path_in_backticks_exists(page):
    missing = []
    for path, test in _repository_paths(page):
        file = ROOT / path
        if not file.exists():
            missing.append(f"`{path}`: no such file or folder")
        elif test and not re.search(rf"^\s*def {test}\(", file.read_text(), re.MULTILINE):
            missing.append(f"`{path}::{test}`: no such test")
    assert not missing, f"{page.relative_to(ROOT)}:\n" + "\n".join(missing)


def test_the_path_check_sees_paths_and_tests_and_ignores_the_rest(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Run `scripts/web`, see `config/gunicorn.py` and `tests/deploy/test_docs.py::test_the_docs_are_there`;\n"
        "not `https://example.com/x`, `/api/posts/`, `a/b` nor `HTTP_PORT=127.0.0.1:8080`.\n"
        "```sh\ncat `tests/nothing.py`\n```\n"
    )
    assert _repository_paths(page) == [
        ("scripts/web", None),
        ("config/gunicorn.py", None),
        ("tests/deploy/test_docs.py", "test_the_docs_are_there"),
    ]


def test_the_link_check_finds_links_and_skips_urls_and_code(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[a](docs/a.md) [b](https://example.com) [c](#here) ![d](img/d.png)\n```\n[e](no.md)\n```\n")
    assert _relative_links(page) == ["docs/a.md", "#here", "img/d.png"]


def test_production_checklist_names_a_setting_and_a_test_or_says_none_for_each_item():
    text = (DOCS / "production-checklist.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| item", "| ---"))]
    items = {row.split("|")[1].strip().lower() for row in rows}
    required = {
        "debug off",
        "secrets",
        "hosts",
        "https and hsts",
        "cors",
        "database password",
        "jwt signing key",
        "log level",
        "error tracking",
        "health checks",
        "release-phase migrations",
        "backups",
        "monitoring",
        "rate limits",
        "static files",
    }
    assert required <= items, f"missing items: {sorted(required - items)}"
    for row in rows:
        proof = row.split("|")[4]
        assert "::test_" in proof or "No test" in proof or "no test" in proof, f"no test and no honest 'no test': {row}"
