"""Swagger UI and ReDoc render in a real browser from an app run like production: DEBUG off,
gunicorn via scripts/web, assets collected and served by whitenoise, and nothing fetched from
outside the app (no CDN, no fonts, no validator badge)."""

import subprocess
from urllib.parse import urlsplit

import pytest

from tests.support import external, harness

pytestmark = pytest.mark.system

ARTIFACTS = external.ROOT / "artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def chromium():
    return external.executable("chromium")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, collected_static):
    """scripts/web with production settings on a SQLite file, serving the collected assets."""
    tmp = tmp_path_factory.mktemp("docs-app")
    env = harness.app_env(
        f"sqlite:///{tmp / 'db.sqlite3'}",
        STATIC_ROOT=str(collected_static),
        ALLOWED_HOSTS="127.0.0.1",
        WEB_CONCURRENCY="1",
    )
    subprocess.run(
        [external.python(), "manage.py", "migrate", "--noinput"],
        cwd=external.ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    with harness.Gunicorn.start(env, tmp) as web:
        yield web.url


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, timeout=60_000)
        yield browser
        browser.close()


class PageLog:
    """Every request the page made, and which of them failed or went outside the app."""

    def __init__(self, page, app_url):
        self.app_host = urlsplit(app_url).netloc
        self.requests, self.failures, self.foreign, self.refused = [], [], [], []
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _request(self, request):
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and (
            parts.hostname not in LOOPBACK or parts.netloc != self.app_host
        ):
            self.foreign.append(request.url)

    def _failed(self, request):
        # Refused by the page's Content-Security-Policy: it never left the browser.
        if request.failure in ("csp", "net::ERR_BLOCKED_BY_CSP"):
            self.refused.append(request.url)
        else:
            self.failures.append(f"{request.url}: {request.failure}")

    def _response(self, response):
        if response.status >= 400:
            self.failures.append(f"{response.url}: HTTP {response.status}")

    def assert_clean(self):
        assert self.requests, "the page made no request"
        sent_outside = [url for url in self.foreign if url not in self.refused]
        assert not sent_outside, f"requests outside the app: {sent_outside}"
        assert not self.failures, f"failed requests: {self.failures}"


def test_swagger_ui_renders_the_posts_operations(browser, app_url):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    log = PageLog(page, app_url)
    page.goto(f"{app_url}/api/docs/", wait_until="networkidle", timeout=60_000)
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)

    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(text.replace("\u200b", "").strip() == "/api/posts/" for text in paths), paths
    publish = page.locator(".opblock-post", has_text="/api/posts/{id}/publish/")
    assert publish.count() == 1
    assert publish.locator(".opblock-summary-description").inner_text() == "Publish a draft"
    # The bearer scheme is offered for signing in from the page.
    assert page.locator("button.authorize").is_visible()
    # Static assets came from whitenoise with far-future caching (hashed names from collectstatic).
    assets = [url for url in log.requests if "/static/drf_spectacular_sidecar/" in url]
    assert any(url.endswith(".js") for url in assets), log.requests

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "swagger-ui.png"), full_page=False)
    log.assert_clean()
    page.close()


def test_redoc_renders(browser, app_url):
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    log = PageLog(page, app_url)
    page.goto(f"{app_url}/api/redoc/", wait_until="networkidle", timeout=60_000)
    page.wait_for_selector("[data-section-id^='tag/posts']", timeout=30_000)
    assert page.get_by_text("Publish a draft").first.is_visible() or page.get_by_text("Publish a draft").count()
    # Redoc's sidebar asks its CDN for a logo; the page's policy refuses it and Redoc drops the image.
    assert log.refused == ["https://cdn.redoc.ly/redoc/logo-mini.svg"], log.refused
    assert page.locator("img").count() == 0

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "redoc.png"), full_page=False)
    log.assert_clean()
    page.close()
