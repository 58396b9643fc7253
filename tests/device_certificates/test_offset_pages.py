"""PageNo/PageSize pages read from the nearer end of the scope equal plain OFFSET pages."""

from __future__ import annotations

import httpx

from mqtt_ca_registry.backend import Backend
from mqtt_ca_registry.clock import FrozenClock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from tests.ca_certificates.helpers import registered_ca
from tests.ca_certificates.test_lifecycle import connect
from tests.support.certs import make_leaf


async def test_every_offset_page_matches_a_plain_offset_scan(
    client: httpx.AsyncClient, platinum_instance: str, database: Database, clock: FrozenClock
) -> None:
    first = await registered_ca(client, platinum_instance)
    second = await registered_ca(client, platinum_instance, cn="Second CA")
    # Interleave two CAs so the instance scope and the CA scope differ.
    for n in range(11):
        await connect(client, platinum_instance, make_leaf(first if n % 3 else second, f"d{n}"))
    async with Backend(database, clock, Settings()).read() as services:
        service = services.devices
        for ca_sn, total in ((None, 11), (first.sn, 7), (second.sn, 4)):
            binding_id = (await service.binding(platinum_instance, ca_sn)).id if ca_sn else None
            scope_instance = None if ca_sn else platinum_instance
            everything = await service.devices.page(
                instance_id=scope_instance, binding_id=binding_id, limit=100
            )
            assert len(everything) == total
            expected_ids = [row.id for row in everything]
            for limit in (1, 2, 3, 4, total, total + 1):
                for offset in range(1, total + 2):
                    page = await service.list(
                        platinum_instance, ca_sn=ca_sn, limit=limit, offset=offset
                    )
                    window = expected_ids[offset : offset + limit]
                    assert [row.id for row in page.items] == window, (ca_sn, limit, offset)
                    assert page.total == total
                    assert page.has_more == (offset + limit < total)
