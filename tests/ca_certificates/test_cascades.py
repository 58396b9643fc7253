"""Cascades over many device rows (made through the repository) on both databases."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, insert, select

from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.models import CaBinding, DeviceCertificate, DeviceCertificatePem
from tests.ca_certificates.helpers import registered_ca
from tests.support.certs import NOW

DEVICES = 2_000


async def bulk_devices(database: Database, instance_id: str, ca_sn: str, count: int) -> None:
    async with database.sessionmaker.begin() as session:
        binding = await session.scalar(
            select(CaBinding).where(CaBinding.instance_id == instance_id, CaBinding.ca_sn == ca_sn)
        )
        assert binding is not None
        rows = [
            {
                "binding_id": binding.id,
                "instance_id": instance_id,
                "device_sn": format(i + 1, "08x"),
                "device_name": f"device-{i}",
                "fingerprint_sha256": format(i, "064x"),
                "subject": f"CN=device-{i}",
                "not_before": NOW - timedelta(days=1),
                "not_after": NOW + timedelta(days=300),
                "status": "inactive" if i % 3 == 0 else "active",
                "status_generation": binding.cascade_generation,
                "registered_at": NOW,
            }
            for i in range(count)
        ]
        await session.execute(insert(DeviceCertificate), rows)
        ids = (
            await session.scalars(
                select(DeviceCertificate.id).where(DeviceCertificate.binding_id == binding.id)
            )
        ).all()
        await session.execute(
            insert(DeviceCertificatePem), [{"device_id": i, "certificate_pem": "x"} for i in ids]
        )


async def count_by_status(
    client: httpx.AsyncClient, instance_id: str, ca_sn: str, status: str
) -> int:
    response = await client.get(
        f"/v1/instances/{instance_id}/ca-certificates/{ca_sn}/device-certificates",
        params={"status": status, "page_size": 1},
    )
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def test_cascades_over_many_devices(
    client: httpx.AsyncClient, platinum_instance: str, database: Database
) -> None:
    ca = await registered_ca(client, platinum_instance)
    other = await registered_ca(client, platinum_instance, cn="Bystander CA")
    await bulk_devices(database, platinum_instance, ca.sn, DEVICES)
    await bulk_devices(database, platinum_instance, other.sn, 10)
    base = f"/v1/instances/{platinum_instance}/ca-certificates/{ca.sn}"
    assert await count_by_status(client, platinum_instance, ca.sn, "inactive") == 667

    assert (await client.post(f"{base}/deactivate")).status_code == 200
    assert await count_by_status(client, platinum_instance, ca.sn, "inactive") == DEVICES
    assert await count_by_status(client, platinum_instance, ca.sn, "active") == 0
    assert await count_by_status(client, platinum_instance, other.sn, "active") == 6  # untouched

    assert (await client.post(f"{base}/activate")).status_code == 200
    assert await count_by_status(client, platinum_instance, ca.sn, "active") == DEVICES

    assert (await client.delete(base)).status_code == 204
    async with database.sessionmaker() as session:
        remaining = await session.scalar(select(func.count()).select_from(DeviceCertificate))
        pems = await session.scalar(select(func.count()).select_from(DeviceCertificatePem))
    assert remaining == 10
    assert pems == 10
