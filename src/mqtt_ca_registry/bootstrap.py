"""Start-up work done once, before the server (or any of its workers) starts."""

from __future__ import annotations

import asyncio
import logging

from mqtt_ca_registry.backend import Backend
from mqtt_ca_registry.clock import Clock, SystemClock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.migrations import current_revision, head_revision, upgrade
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.errors import ConflictError
from mqtt_ca_registry.instances.schemas import InstanceCreate
from mqtt_ca_registry.models import Edition
from mqtt_ca_registry.request_context import reset_actor, set_actor

logger = logging.getLogger(__name__)


async def _revision(database_url: str) -> str | None:
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return await current_revision(connection)
    finally:
        await database.dispose()


async def seed_default_instance(database: Database, settings: Settings, clock: Clock) -> None:
    """Create the default enterprise_platinum instance so a new user can register a CA at once."""
    data = InstanceCreate(
        instance_id=settings.default_instance_id,
        name="Local emulator instance",
        edition=Edition.ENTERPRISE_PLATINUM,
    )
    token = set_actor("system")
    try:
        async with Backend(database, clock, settings).write() as services:
            await services.instances.create(data)
        logger.info("created default instance %s", settings.default_instance_id)
    except ConflictError:
        pass  # another process seeded it first
    finally:
        reset_actor(token)


async def _seed(settings: Settings) -> None:
    database = Database(settings.database_url)
    try:
        await seed_default_instance(database, settings, SystemClock())
    finally:
        await database.dispose()


def prepare_database(settings: Settings) -> None:
    """Upgrade to head; a database created by this call gets the default instance (if enabled)."""
    revision = asyncio.run(_revision(settings.database_url))
    fresh = revision is None
    head = head_revision()
    if revision != head:  # up to date: skip Alembic's start-up cost entirely
        upgrade(settings.database_url)
        logger.info("database upgraded from revision %s to %s", revision or "(empty)", head)
    if fresh and settings.seed_default_instance:
        asyncio.run(_seed(settings))
