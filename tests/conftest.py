"""Test fixtures: every storage test runs on SQLite and on the real PostgreSQL.

PostgreSQL comes from MQTT_CA_REGISTRY_TEST_POSTGRES_URL (default the local `test` database).
When it is unreachable its tests are skipped, unless MQTT_CA_REGISTRY_TEST_REQUIRE_POSTGRES=1
(as .ci/run sets), in which case they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.clock import FrozenClock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.base import Base
from mqtt_ca_registry.db.migrations import upgrade
from mqtt_ca_registry.db.session import Database
from tests.support.servers import LiveServerFactory

POSTGRES_URL = os.environ.get(
    "MQTT_CA_REGISTRY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("MQTT_CA_REGISTRY_TEST_REQUIRE_POSTGRES") == "1"
# Fixed "now" for in-process tests; certificates in fixtures are made valid around it.
TEST_NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
DATABASES = ["sqlite", "postgresql"]
_TABLES = ", ".join(t.name for t in Base.metadata.sorted_tables)


def _worker(config: pytest.Config) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


async def _postgres_admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL.replace("postgresql://", "postgres://"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _postgres_reachable() -> str | None:
    try:
        asyncio.run(_postgres_admin("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def postgres_url_for(database: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{database}"


def create_postgres_database(name: str) -> str:
    """A new empty PostgreSQL database (dropped first if left over); returns its URL."""
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    return postgres_url_for(name)


def drop_postgres_database(name: str) -> None:
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    problem = _postgres_reachable()
    if problem is None:
        return True
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required but unreachable at {POSTGRES_URL}: {problem}")
    return False


@pytest.fixture(scope="session")
def migrated_urls(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, str]]:
    """One migrated database per backend for this test worker (built lazily)."""
    urls: dict[str, str] = {}
    template = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{template}")
    urls["sqlite-template"] = str(template)
    yield urls
    if "postgresql" in urls:
        drop_postgres_database(urls["postgresql-name"])


def _postgres_for_worker(urls: dict[str, str], config: pytest.Config) -> str:
    if "postgresql" not in urls:
        name = f"mqttcar_{_worker(config)}_{os.getpid()}"
        url = create_postgres_database(name)
        upgrade(url)
        urls["postgresql"] = url
        urls["postgresql-name"] = name
    return urls["postgresql"]


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest,
    migrated_urls: dict[str, str],
    tmp_path: Path,
    postgres_available: bool,
) -> str:
    """A migrated, empty database: a fresh SQLite file, or the worker's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copyfile(migrated_urls["sqlite-template"], path)
        return f"sqlite:///{path}"
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
    return _postgres_for_worker(migrated_urls, request.config)


@pytest.fixture
def scratch_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> Iterator[str]:
    """An empty database (not migrated) for one test; parametrise with `database_kind`."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
    name = f"mqttcar_scratch_{uuid.uuid4().hex[:12]}"
    url = create_postgres_database(name)
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TEST_NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, seed_default_instance=False)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.database_url)
    try:
        yield db
    finally:
        if not db.is_sqlite:
            async with db.engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
        await db.dispose()


@pytest.fixture
async def client(
    settings: Settings, clock: FrozenClock, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to an in-process app on the test database."""
    app = create_app(settings, clock=clock, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c


@pytest.fixture
async def platinum_instance(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/v1/instances",
        json={"instance_id": "mqtt-cn-test", "name": "test", "edition": "enterprise_platinum"},
    )
    assert response.status_code == 201, response.text
    return "mqtt-cn-test"


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServerFactory]:
    """Starts real `mqtt-ca-registry serve` processes on free loopback ports."""
    factory = LiveServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()
