"""Run Alembic programmatically: upgrade on start-up, and the revision checks /readyz makes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

import mqtt_ca_registry


def migrations_path() -> Path:
    """Where the Alembic scripts are: inside the wheel, or top-level in a source checkout."""
    package_dir = Path(mqtt_ca_registry.__file__).resolve().parent
    for candidate in (package_dir / "_migrations", package_dir.parents[1] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError(f"migrations not found next to {package_dir}")


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our scripts and the given database."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    # Alembic's config is interpolated: escape % so URL-encoded passwords survive.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The revision the code expects the database to be at."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the database (blocking; call before the event loop or worker processes start)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision stamped in the database, or None for an empty one."""

    def _read(sync_connection: object) -> str | None:
        context = MigrationContext.configure(sync_connection)  # type: ignore[arg-type]
        return context.get_current_revision()

    return await connection.run_sync(_read)
