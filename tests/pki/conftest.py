"""Fixtures for the pure pki tests: no database, no HTTP, the clock pinned by each test."""

from __future__ import annotations

import pytest

from tests.pki.openssl_seed import openssl_available


@pytest.fixture(scope="session")
def openssl_cli() -> None:
    """Tests comparing with the `openssl` command line need it on PATH."""
    if not openssl_available():
        pytest.skip("the openssl command line is not installed")
