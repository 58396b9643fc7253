"""Fixtures of the contract suite: live servers on SQLite and PostgreSQL, driven by the SDK.

One server per backend per test process, started on first use and kept for the session (a start
costs 1-2 s). Tests stay independent by working on their own fresh instance (`instance`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    DATABASES,
    POSTGRES_URL,
    create_postgres_database,
    drop_postgres_database,
)
from tests.contract.support import STYLES, Registry, Sdk, sdk_for
from tests.support.servers import PROXY_VARIABLES, LiveServerFactory


@pytest.fixture(scope="session", autouse=True)
def _no_proxies() -> Iterator[None]:
    """The SDK reads HTTP(S)_PROXY but ignores NO_PROXY: loopback calls would go to a proxy."""
    with pytest.MonkeyPatch.context() as patch:
        for name in PROXY_VARIABLES:
            patch.delenv(name, raising=False)
        yield


class Registries:
    """Starts at most one live server per backend, lazily, and stops them at the end."""

    def __init__(self, root: Path, request: pytest.FixtureRequest) -> None:
        self._root = root
        self._request = request
        self._factory = LiveServerFactory(root)
        self._started: dict[str, Registry] = {}
        self._databases: list[str] = []

    def get(self, kind: str) -> Registry:
        if kind not in self._started:
            self._started[kind] = self._start(kind)
        return self._started[kind]

    def _start(self, kind: str) -> Registry:
        if kind == "sqlite":
            url = f"sqlite:///{self._root / 'contract.db'}"
        else:
            # asked only now, so that a required but missing PostgreSQL fails only its own tests
            if not self._request.getfixturevalue("postgres_available"):
                pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
            name = f"mqttcar_contract_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
            name = f"{name}_{os.getpid()}"
            url = create_postgres_database(name)
            self._databases.append(name)
        server = self._factory.start(url)
        http = httpx.Client(base_url=server.base_url, trust_env=False, timeout=30)
        return Registry(kind, server, http)

    def close(self) -> None:
        for registry in self._started.values():
            registry.http.close()
        self._factory.stop_all()
        for name in self._databases:
            drop_postgres_database(name)


@pytest.fixture(scope="session")
def registries(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Registries]:
    started = Registries(tmp_path_factory.mktemp("contract"), request)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(params=DATABASES)
def registry(request: pytest.FixtureRequest, registries: Registries) -> Registry:
    """The live server of one backend (the test runs once per backend)."""
    return registries.get(request.param)


@pytest.fixture
def instance(registry: Registry) -> str:
    """A fresh enterprise_platinum instance of this test's own."""
    return registry.new_instance()


@pytest.fixture(params=STYLES)
def sdk(request: pytest.FixtureRequest, registry: Registry) -> Sdk:
    """The SDK in one signature mode (ACS3 / RPC v1) and one flavor (sync / async)."""
    return sdk_for(registry, request.param)
