"""Alembic migrations on both databases: round trip, no drift from the models, start-up seeding."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from mqtt_ca_registry.bootstrap import prepare_database
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.base import Base
from mqtt_ca_registry.db.migrations import downgrade, head_revision, upgrade
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.models import Instance

BOTH = pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)


async def _inspect(url: str) -> tuple[set[str], list[Any], str | None]:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:

            def _sync(sync_connection: Any) -> tuple[set[str], list[Any], str | None]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                tables = set(inspect(sync_connection).get_table_names())
                return (
                    tables,
                    compare_metadata(context, Base.metadata),
                    context.get_current_revision(),
                )

            return await connection.run_sync(_sync)
    finally:
        await database.dispose()


async def _instance_ids(url: str) -> list[str]:
    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            return list((await session.scalars(select(Instance.instance_id))).all())
    finally:
        await database.dispose()


@BOTH
def test_upgrade_downgrade_upgrade_round_trip(scratch_database_url: str) -> None:
    upgrade(scratch_database_url)
    tables, _, revision = asyncio.run(_inspect(scratch_database_url))
    assert revision == head_revision()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables

    downgrade(scratch_database_url, "base")
    tables, _, revision = asyncio.run(_inspect(scratch_database_url))
    assert revision is None
    assert tables <= {"alembic_version"}

    upgrade(scratch_database_url)
    _, _, revision = asyncio.run(_inspect(scratch_database_url))
    assert revision == head_revision()


@BOTH
def test_models_and_migrations_do_not_drift(scratch_database_url: str) -> None:
    upgrade(scratch_database_url)
    _, differences, _ = asyncio.run(_inspect(scratch_database_url))
    assert differences == [], "run `alembic revision --autogenerate` and review it"


@BOTH
def test_fresh_database_gets_the_default_instance_once(scratch_database_url: str) -> None:
    settings = Settings(database_url=scratch_database_url)
    prepare_database(settings)
    assert asyncio.run(_instance_ids(scratch_database_url)) == ["mqtt-cn-local"]
    prepare_database(settings)  # idempotent: upgrades nothing, seeds nothing
    assert asyncio.run(_instance_ids(scratch_database_url)) == ["mqtt-cn-local"]


@BOTH
def test_seeding_can_be_turned_off(scratch_database_url: str) -> None:
    prepare_database(Settings(database_url=scratch_database_url, seed_default_instance=False))
    assert asyncio.run(_instance_ids(scratch_database_url)) == []


def test_default_instance_not_recreated_after_user_deleted_it(scratch_database_url: str) -> None:
    """Only a database created by this start-up is seeded: a deleted default stays deleted."""
    settings = Settings(database_url=scratch_database_url)
    prepare_database(settings)

    async def _delete() -> None:
        database = Database(scratch_database_url)
        try:
            async with database.sessionmaker.begin() as session:
                await session.delete(await session.get(Instance, "mqtt-cn-local"))
        finally:
            await database.dispose()

    asyncio.run(_delete())
    prepare_database(settings)
    assert asyncio.run(_instance_ids(scratch_database_url)) == []
