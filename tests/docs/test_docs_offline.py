"""The API documentation page works with no internet access, proved in a real browser.

Swagger UI at /docs must render every operation from assets the server itself serves; nothing
the page loads may leave the machine. ReDoc is switched off: its side menu always loads a
"by Redocly" logo from cdn.redoc.ly (see create_app), so /redoc must stay a 404.

These are plain sync tests: Playwright's sync API cannot run inside an asyncio loop.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.docs.conftest import RecordedPage
from tests.support.servers import LiveServer, LiveServerFactory

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Operations a reader of the docs must find (the full list is compared with /openapi.json).
KNOWN_OPERATIONS = {
    ("GET", "/v1/instances"),
    ("POST", "/v1/instances"),
    ("GET", "/v1/instances/{instance_id}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
}
RENDER_TIMEOUT_MS = 15_000


@pytest.fixture
def docs_server(live_server: LiveServerFactory, tmp_path: Path) -> LiveServer:
    return live_server.start(f"sqlite:///{tmp_path / 'docs.db'}")


def get(server: LiveServer, path: str) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
        return client.get(path)


def openapi_operations(server: LiveServer) -> set[tuple[str, str]]:
    spec = get(server, "/openapi.json").json()
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def is_local(url: str, server: LiveServer) -> bool:
    """Whether a request the page made is served by the test server (or never hits a network)."""
    if url.startswith("data:"):
        return True
    # blob:http://127.0.0.1:port/uuid is an object in the page's memory, named by its origin.
    parts = urlsplit(url.removeprefix("blob:"))
    server_parts = urlsplit(server.base_url)
    return (parts.scheme, parts.netloc) == (server_parts.scheme, server_parts.netloc)


def open_docs(recorded: RecordedPage, server: LiveServer, operation_count: int) -> None:
    """Open /docs and wait until Swagger UI has drawn (at least) every operation."""
    page = recorded.page
    page.goto(f"{server.base_url}/docs", wait_until="networkidle")
    page.wait_for_function(
        "n => document.querySelectorAll('.opblock').length >= n",
        arg=operation_count,
        timeout=RENDER_TIMEOUT_MS,
    )


class TestDocsPage:
    def test_html_loads_only_assets_from_this_server(self, docs_server: LiveServer) -> None:
        response = get(docs_server, "/docs")
        assert response.status_code == 200
        references = re.findall(r"""(?:src|href)=["']([^"']+)""", response.text)
        references += re.findall(r"""\burl:\s*["']([^"']+)""", response.text)
        assert "/openapi.json" in references
        assert "/static-offline-docs/swagger-ui-bundle.js" in references
        for reference in references:
            assert reference.startswith("/") and not reference.startswith("//"), reference

    def test_redoc_is_switched_off(self, docs_server: LiveServer) -> None:
        assert get(docs_server, "/redoc").status_code == 404

    @pytest.mark.browser
    def test_swagger_ui_shows_every_operation(
        self, docs_server: LiveServer, recorded_page: RecordedPage, tmp_path: Path
    ) -> None:
        expected = openapi_operations(docs_server)
        assert expected >= KNOWN_OPERATIONS
        open_docs(recorded_page, docs_server, len(expected))
        page = recorded_page.page

        shown = page.eval_on_selector_all(
            ".opblock",
            """blocks => blocks.map(block => [
                block.querySelector('.opblock-summary-method').textContent.trim(),
                block.querySelector('.opblock-summary-path').dataset.path,
            ])""",
        )
        assert {(method, path) for method, path in shown} == expected
        assert "mqtt-ca-registry" in page.locator(".info .title").inner_text()
        assert page.locator(".opblock-tag", has_text="instances").count() == 1
        page.screenshot(path=tmp_path / "docs.png", full_page=True)

    @pytest.mark.browser
    def test_no_request_leaves_the_machine(
        self, docs_server: LiveServer, recorded_page: RecordedPage
    ) -> None:
        open_docs(recorded_page, docs_server, len(KNOWN_OPERATIONS))
        requests = recorded_page.requests
        # The recorder saw the page's real work, so an empty or partial list cannot pass.
        for path in ("/docs", "/openapi.json", "/static-offline-docs/swagger-ui-bundle.js"):
            assert f"{docs_server.base_url}{path}" in requests, requests

        assert [url for url in requests if not is_local(url, docs_server)] == []
        assert recorded_page.failures == []
        assert recorded_page.script_errors == []

        favicon = recorded_page.page.eval_on_selector("link[rel~='icon']", "link => link.href")
        assert is_local(favicon, docs_server), favicon
        served = get(docs_server, urlsplit(favicon).path)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"
