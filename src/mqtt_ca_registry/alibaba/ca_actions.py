"""Adapters for the CA-certificate and instance actions: parameters in, documented shapes out."""

from __future__ import annotations

import json
from typing import Any

from mqtt_ca_registry.alibaba.context import ActionContext, millis, status_flag
from mqtt_ca_registry.alibaba.params import Params
from mqtt_ca_registry.ca_certificates.service import CaView
from mqtt_ca_registry.errors import ErrorCode, InvalidInputError
from mqtt_ca_registry.models import CaBindingStatus, Edition, Instance

IN_SERVICE = 5  # InstanceStatus "In service"


def ca_data(view: CaView) -> dict[str, Any]:
    certificate, binding = view.certificate, view.binding
    return {
        "CaName": binding.name,
        "Sn": certificate.sn,
        "CaContent": certificate.certificate_pem,
        "VerificationContent": binding.verification_certificate_pem,
        "RegistrationCode": binding.registration_code,
        "ValidBegin": str(millis(certificate.not_before)),
        "ValidEnd": str(millis(certificate.not_after)),
        "Status": status_flag(binding.status),
    }


async def register_ca_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    instance_id = params.required("MqttInstanceId")
    name = params.required("CaName")
    ca_content = params.required("CaContent")
    verification = params.required("VerificationContent")
    async with ctx.backend.write() as services:
        view = await services.cas.register(
            instance_id, name=name, ca_certificate=ca_content, verification_certificate=verification
        )
    return {"Sn": view.certificate.sn}


async def get_register_code(ctx: ActionContext, params: Params) -> dict[str, Any]:
    instance_id = params.required("MqttInstanceId")
    async with ctx.backend.write() as services:
        code = await services.cas.issue_registration_code(instance_id)
    return {"RegisterCode": code.code}


async def get_ca_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    instance_id, sn = params.required("MqttInstanceId"), params.required("Sn")
    async with ctx.backend.read() as services:
        view = await services.cas.get(instance_id, sn)
    return {"Data": ca_data(view)}


async def list_ca_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    instance_id = params.required("MqttInstanceId")
    page_no, page_size = params.page()
    async with ctx.backend.read() as services:
        page = await services.cas.list(
            instance_id, limit=page_size, offset=(page_no - 1) * page_size
        )
    return {
        "Data": {
            "CaCertificateVOS": [ca_data(v) for v in page.items],
            "PageNo": page_no,
            "PageSize": page_size,
            "Total": page.total,
        }
    }


async def _set_ca_status(
    ctx: ActionContext, params: Params, status: CaBindingStatus
) -> dict[str, Any]:
    instance_id, sn = params.required("MqttInstanceId"), params.required("Sn")
    async with ctx.backend.write() as services:
        view = await services.cas.set_status(instance_id, sn, status)
    return {"Sn": view.certificate.sn}


async def active_ca_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    return await _set_ca_status(ctx, params, CaBindingStatus.ACTIVE)


async def inactivate_ca_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    return await _set_ca_status(ctx, params, CaBindingStatus.INACTIVE)


async def delete_ca_certificate(ctx: ActionContext, params: Params) -> dict[str, Any]:
    instance_id, sn = params.required("MqttInstanceId"), params.required("Sn")
    async with ctx.backend.write() as services:
        deleted = await services.cas.delete(instance_id, sn)
    return {"Sn": deleted}


def _tag_filter(params: Params) -> list[tuple[str, str]]:
    text = params.optional("Tags")
    if not text:
        return []
    try:
        tags = json.loads(text)
        if not isinstance(tags, list):
            raise ValueError("not a list")
        return [(str(t["key"]), str(t.get("value", ""))) for t in tags]
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise InvalidInputError(
            ErrorCode.INVALID_PARAMETER,
            'Tags must be a JSON list like [{"key":"env","value":"test"}].',
            field="Tags",
        ) from exc


def _instance_data(instance: Instance) -> dict[str, Any]:
    created = millis(instance.created_at)
    return {
        "InstanceId": instance.instance_id,
        "InstanceName": instance.name,
        "InstanceStatus": IN_SERVICE,
        "InstanceType": Edition(instance.edition).instance_type,
        "Specific": "mqtt.emulator",
        "RegionId": instance.region_id,
        "CreateTime": created,
        "ExpireTime": created + 10 * 365 * 24 * 3600 * 1000,
        "KernelVersion": "emulator",
        "MqttTags": [{"TagKey": k, "TagValue": v} for k, v in sorted(instance.tags.items())],
        "OrderId": "",
    }


async def list_instances(ctx: ActionContext, params: Params) -> dict[str, Any]:
    wanted = _tag_filter(params)
    async with ctx.backend.read() as services:
        instances = await services.instances.all()
    selected = [i for i in instances if all(i.tags.get(k) == v for k, v in wanted)]
    return {
        "Code": "200",
        "Message": "operation success.",
        "Success": "true",
        "Instances": [_instance_data(i) for i in selected],
    }
