"""All SQL about instances."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mqtt_ca_registry.models import CaBinding, Instance


class InstanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, instance_id: str) -> Instance | None:
        return await self.session.get(Instance, instance_id)

    async def add(self, instance: Instance) -> None:
        self.session.add(instance)
        await self.session.flush()

    async def page(self, *, after: str | None, limit: int) -> Sequence[Instance]:
        query = select(Instance).order_by(Instance.instance_id).limit(limit)
        if after is not None:
            query = query.where(Instance.instance_id > after)
        return (await self.session.scalars(query)).all()

    async def all(self) -> Sequence[Instance]:
        return (await self.session.scalars(select(Instance).order_by(Instance.instance_id))).all()

    async def count(self) -> int:
        return (await self.session.scalar(select(func.count()).select_from(Instance))) or 0

    async def delete(self, instance_id: str) -> list[str]:
        """Delete an instance (codes, bindings and devices go by FK cascade).

        Returns the Sns of the CAs that were bound to it, so orphans can be removed.
        """
        bound = (
            await self.session.scalars(
                select(CaBinding.ca_sn).where(CaBinding.instance_id == instance_id)
            )
        ).all()
        await self.session.execute(delete(Instance).where(Instance.instance_id == instance_id))
        return list(bound)
