"""The registry's invariants, checked straight in the database after stress or a crash."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg

# Each query lists violations; every one must come back empty.
CHECKS: dict[str, str] = {
    "a CA serial registered twice": (
        "SELECT sn FROM ca_certificates GROUP BY sn HAVING COUNT(*) > 1"
    ),
    "a registration code used by two bindings": (
        "SELECT registration_code FROM ca_bindings GROUP BY registration_code HAVING COUNT(*) > 1"
    ),
    "a binding whose code is missing or not marked used": (
        "SELECT b.id FROM ca_bindings b LEFT JOIN registration_codes c "
        "ON c.code = b.registration_code WHERE c.code IS NULL OR c.used_at IS NULL"
    ),
    "a CA bound twice to one instance": (
        "SELECT instance_id, ca_sn FROM ca_bindings GROUP BY instance_id, ca_sn HAVING COUNT(*) > 1"
    ),
    "a binding without its CA record": (
        "SELECT b.id FROM ca_bindings b LEFT JOIN ca_certificates c ON c.sn = b.ca_sn "
        "WHERE c.sn IS NULL"
    ),
    "a CA record without any binding": (
        "SELECT c.sn FROM ca_certificates c LEFT JOIN ca_bindings b ON b.ca_sn = c.sn "
        "WHERE b.id IS NULL"
    ),
    "two records for one device": (
        "SELECT binding_id, device_sn FROM device_certificates "
        "GROUP BY binding_id, device_sn HAVING COUNT(*) > 1"
    ),
    "a device of a deleted binding": (
        "SELECT d.id FROM device_certificates d LEFT JOIN ca_bindings b ON b.id = d.binding_id "
        "WHERE b.id IS NULL"
    ),
    "a device without its PEM": (
        "SELECT d.id FROM device_certificates d LEFT JOIN device_certificate_pems p "
        "ON p.device_id = d.id WHERE p.device_id IS NULL"
    ),
    "a PEM without its device": (
        "SELECT p.device_id FROM device_certificate_pems p LEFT JOIN device_certificates d "
        "ON d.id = p.device_id WHERE d.id IS NULL"
    ),
    "a device status newer than its CA's cascades": (
        "SELECT d.id FROM device_certificates d JOIN ca_bindings b ON b.id = d.binding_id "
        "WHERE d.status_generation > b.cascade_generation"
    ),
    "a device on another instance than its binding": (
        "SELECT d.id FROM device_certificates d JOIN ca_bindings b ON b.id = d.binding_id "
        "WHERE d.instance_id <> b.instance_id"
    ),
}


async def _postgres(url: str, queries: list[str]) -> list[list[tuple[Any, ...]]]:
    connection = await asyncpg.connect(url.replace("postgresql://", "postgres://"))
    try:
        return [[tuple(r) for r in await connection.fetch(q)] for q in queries]
    finally:
        await connection.close()


def query(database_url: str, *queries: str) -> list[list[tuple[Any, ...]]]:
    """Run read-only queries directly against the database (no app code involved)."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            return [connection.execute(q).fetchall() for q in queries]
        finally:
            connection.close()
    return asyncio.run(_postgres(database_url, list(queries)))


def violations(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every invariant that does not hold, with the offending rows."""
    results = query(database_url, *CHECKS.values())
    return {name: rows for name, rows in zip(CHECKS, results, strict=True) if rows}
