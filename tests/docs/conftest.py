"""A headless Chromium, driven by Playwright, for the documentation-page tests.

Chromium is Debian's (`apt-get install chromium`), not a Playwright download. Without it the
browser tests skip, except under CI=true, where they fail: CI must not skip them silently.

Playwright's sync API marks its event loop as *running* on the main thread from start() to
stop(); while it is up, asyncio.run() and pytest-asyncio tests in the same process fail. So the
fixture is package-scoped, not session-scoped: still one sync_playwright() per process, started
when the first test here needs it and stopped when the run leaves tests/docs/. Tests here are
plain sync tests and must not use asyncio (nor fixtures that do, such as postgres_available).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Request, sync_playwright

CHROMIUM = Path(os.environ.get("MQTT_CA_REGISTRY_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # runs as root in CI containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Any host name but the loopback address fails to resolve, so a page that reaches for a CDN
    # breaks the same way with or without internet access, and the test machine leaks nothing.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="package")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile (user-data-dir), shared by the tests of this package."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=tmp_path_factory.mktemp("chromium-profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class RecordedPage:
    """A page, with every request it made, the failed ones, and uncaught script errors."""

    page: Page
    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def _on_request_finished(self, request: Request) -> None:
        response = request.response()
        if response is not None and response.status >= 400:
            self.failures.append(f"{request.url}: HTTP {response.status}")


@pytest.fixture
def recorded_page(browser: BrowserContext) -> Iterator[RecordedPage]:
    recorded = RecordedPage(browser.new_page())
    page = recorded.page
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on(
        "requestfailed",
        lambda request: recorded.failures.append(f"{request.url}: {request.failure}"),
    )
    page.on("requestfinished", recorded._on_request_finished)
    page.on("pageerror", lambda error: recorded.script_errors.append(str(error)))
    try:
        yield recorded
    finally:
        page.close()
