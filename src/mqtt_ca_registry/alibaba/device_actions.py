"""Adapters for the device-certificate actions."""

from __future__ import annotations

from typing import Any

from mqtt_ca_registry.alibaba.context import ActionContext, millis, status_flag
from mqtt_ca_registry.alibaba.params import Params
from mqtt_ca_registry.device_certificates.repository import DeviceRow
from mqtt_ca_registry.models import DeviceStatus


def device_data(row: DeviceRow, pem: str) -> dict[str, Any]:
    return {
        "CaSn": row.ca_sn,
        "DeviceSn": row.device_sn,
        "DeviceName": row.device_name or "",
        "DeviceContent": pem,
        "ValidBegin": str(millis(row.not_before)),
        "ValidEnd": str(millis(row.not_after)),
        "Status": status_flag(row.status),
    }


def _ids(params: Params) -> tuple[str, str, str]:
    return (
        params.required("MqttInstanceId"),
        params.required("CaSn"),
        params.required("DeviceSn"),
    )


async def get_device_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    instance_id, ca_sn, device_sn = _ids(params)
    async with ctx.backend.read() as services:
        found = await services.devices.detail(instance_id, ca_sn, device_sn)
    return {"Data": device_data(found.device, found.certificate_pem)}


async def _list(ctx: ActionContext, params: Params, ca_sn: str | None) -> dict[str, Any]:
    instance_id = params.required("MqttInstanceId")
    page_no, page_size = params.page()
    async with ctx.backend.read() as services:
        page = await services.devices.list(
            instance_id, ca_sn=ca_sn, limit=page_size, offset=(page_no - 1) * page_size
        )
        pems = await services.devices.pems(page.items)
    return {
        "Data": {
            "DeviceCertificateVOS": [device_data(r, pems.get(r.id, "")) for r in page.items],
            "PageNo": page_no,
            "PageSize": page_size,
            "Total": page.total,
        }
    }


async def list_device_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    return await _list(ctx, params, None)


async def list_device_certificate_by_ca_sn(ctx: ActionContext, params: Params) -> dict[str, Any]:
    return await _list(ctx, params, params.required("CaSn"))


async def _set_status(ctx: ActionContext, params: Params, status: DeviceStatus) -> dict[str, Any]:
    instance_id, ca_sn, device_sn = _ids(params)
    async with ctx.backend.write() as services:
        row = await services.devices.set_status(instance_id, ca_sn, device_sn, status)
    return {"DeviceSn": row.device_sn}


async def active_device_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    return await _set_status(ctx, params, DeviceStatus.ACTIVE)


async def inactivate_device_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    return await _set_status(ctx, params, DeviceStatus.INACTIVE)


async def delete_device_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    instance_id, ca_sn, device_sn = _ids(params)
    async with ctx.backend.write() as services:
        deleted = await services.devices.delete(instance_id, ca_sn, device_sn)
    return {"DeviceSn": deleted}
