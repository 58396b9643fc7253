"""The docs page as a user fills it in: CA registration offers file pickers, the instance id is
pre-filled with the default instance, and a lock shows only when a token is configured.

Plain sync tests: Playwright's sync API cannot run inside an asyncio loop (see conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from tests.docs.conftest import RecordedPage
from tests.support.servers import LiveServer, LiveServerFactory

TIMEOUT_MS = 15_000
REGISTER_PATH = "/v1/instances/{instance_id}/ca-certificates"


def open_docs(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.base_url}/docs", wait_until="networkidle")
    page.wait_for_selector(".opblock", timeout=TIMEOUT_MS)


def operation(page: Page, method: str, path: str) -> Locator:
    """One operation's block, expanded, in "Try it out" mode."""
    block = page.locator(f".opblock-{method.lower()}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    return block


@pytest.mark.browser
def test_registration_offers_file_pickers_and_the_default_instance(
    live_server: LiveServerFactory, recorded_page: RecordedPage, tmp_path: Path
) -> None:
    server = live_server.start(f"sqlite:///{tmp_path / 'docs.db'}")
    page = recorded_page.page
    open_docs(page, server)
    block = operation(page, "POST", REGISTER_PATH)

    instance = block.locator('tr[data-param-name="instance_id"] input')
    assert instance.input_value() == "mqtt-cn-local"

    content_type = block.locator(".body-param-content-type select")
    assert content_type.locator("option").all_inner_texts() == [
        "application/json",
        "multipart/form-data",
    ]
    content_type.select_option("multipart/form-data")
    pickers = block.locator('input[type="file"]')
    pickers.first.wait_for(timeout=TIMEOUT_MS)
    assert pickers.count() == 2
    block.screenshot(path=tmp_path / "register-upload.png")
    assert recorded_page.script_errors == []


@pytest.mark.browser
@pytest.mark.parametrize("token", [None, "docs-token"], ids=["no-token", "token"])
def test_the_lock_shows_only_when_a_token_is_configured(
    live_server: LiveServerFactory, recorded_page: RecordedPage, tmp_path: Path, token: str | None
) -> None:
    env = {"MQTT_CA_REGISTRY_API_TOKEN": token} if token else {}
    server = live_server.start(f"sqlite:///{tmp_path / 'docs.db'}", env=env)
    page = recorded_page.page
    open_docs(page, server)
    locks = page.locator(".opblock .authorization__btn")
    authorize = page.locator(".auth-wrapper .authorize")
    if token is None:
        assert (locks.count(), authorize.count()) == (0, 0)
    else:
        assert (
            locks.count()
            == page.locator(".opblock")
            .filter(has=page.locator('.opblock-summary-path[data-path^="/v1/"]'))
            .count()
        )
        assert authorize.count() == 1
