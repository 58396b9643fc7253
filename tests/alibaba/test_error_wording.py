"""Where the fix for an error is a call to make, each front end names its own: REST paths for
REST callers, SDK actions and parameters for SDK callers. The rules themselves name neither."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from mqtt_ca_registry.alibaba import errors as alibaba
from mqtt_ca_registry.api import problems as rest
from mqtt_ca_registry.errors import ErrorCode, NotFoundError, Remedy

SRC = Path(__file__).resolve().parents[2] / "src" / "mqtt_ca_registry"
# The layers below the front ends: what they say must suit every front end.
RULE_MODULES = sorted(
    [
        *SRC.glob("*/service.py"),
        *SRC.glob("*/authentication.py"),
        *SRC.glob("pki/*.py"),
        SRC / "errors.py",
    ]
)
SDK_ACTION = {
    Remedy.LIST_INSTANCES: "ListInstances",
    Remedy.GET_REGISTRATION_CODE: "GetRegisterCode (MqttInstanceId=i-1)",
    Remedy.LIST_CA_CERTIFICATES: "ListCaCertificate (MqttInstanceId=i-1)",
    Remedy.CONNECT_DEVICE: "ListDeviceCertificate",
}


def test_every_remedy_is_worded_by_both_front_ends() -> None:
    assert set(rest.REMEDIES) == set(Remedy) == set(alibaba.REMEDIES)


@pytest.mark.parametrize("remedy", list(Remedy))
def test_the_alibaba_wording_names_actions_not_paths(remedy: Remedy) -> None:
    error = NotFoundError(
        ErrorCode.CA_NOT_FOUND, "Not found.", remedy=remedy, remedy_args={"instance_id": "i-1"}
    )
    worded = alibaba.sdk_message(error)
    assert "/v1/" not in worded and "GET " not in worded and "POST " not in worded
    assert SDK_ACTION[remedy] in worded
    assert "/v1/" in error.worded(rest.REMEDIES)


@pytest.mark.parametrize("module", RULE_MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_the_rules_name_no_rest_path(module: Path) -> None:
    """String literals of services, pki and errors never carry a REST path (nor f-strings)."""
    literals = [
        node.value
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert [text for text in literals if "/v1/" in text or "/authenticate" in text] == []


async def test_rest_problems_name_the_rest_call(
    client: httpx.AsyncClient, platinum_instance: str
) -> None:
    response = await client.get(f"/v1/instances/{platinum_instance}/ca-certificates/0a1b")
    assert response.status_code == 404
    problem = response.json()
    assert problem["detail"].endswith(
        f"List them with GET /v1/instances/{platinum_instance}/ca-certificates."
    )
    assert problem["errors"] == [{"field": "sn", "message": problem["detail"]}]
    missing = (await client.get("/v1/instances/mqtt-cn-nothere")).json()
    assert missing["detail"] == (
        "Instance 'mqtt-cn-nothere' does not exist. List instances with GET /v1/instances."
    )
