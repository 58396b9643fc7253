"""Every domain outcome has its wire form in every front end's table.

A missing row would be a 500 (a KeyError in an error handler) the first time that error
happened; here it fails before any request is made.
"""

from __future__ import annotations

from mqtt_ca_registry.alibaba.errors import DOCUMENTED_MESSAGES, EMULATOR_PREFIX
from mqtt_ca_registry.alibaba.errors import TABLE as ALIBABA
from mqtt_ca_registry.api.problems import HTTP_STATUS, title_of
from mqtt_ca_registry.device_certificates.outcomes import ConnectReason
from mqtt_ca_registry.device_certificates.schemas import Decision
from mqtt_ca_registry.errors import ErrorCode
from mqtt_ca_registry.pki.chain import RejectReason


def test_every_error_code_has_a_rest_status_and_an_alibaba_code() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode), "add the code to api/problems.py HTTP_STATUS"
    assert set(ALIBABA) == set(ErrorCode), "add the code to alibaba/errors.py TABLE"
    for code in ErrorCode:
        assert title_of(HTTP_STATUS[code]) != "Error", code


def test_alibaba_codes_are_documented_or_marked_as_the_emulators_own() -> None:
    documented = set(DOCUMENTED_MESSAGES) | {
        "PermissionCheckFailed",
        "ServiceUnavailable",
    }
    for code, mapped in ALIBABA.items():
        assert mapped.code in documented or mapped.code.startswith(EMULATOR_PREFIX), code


def test_every_chain_refusal_is_a_connect_reason_of_the_same_value() -> None:
    for reason in RejectReason:
        assert ConnectReason.of(reason).value == reason.value
    registry_own = {"accepted", "auto_registered", "ca_inactive", "device_inactive"}
    registry_own.add("serial_conflict")
    assert {r.value for r in ConnectReason} == {r.value for r in RejectReason} | registry_own


def test_the_rest_decision_documents_every_reason_code() -> None:
    schema = Decision.model_json_schema()
    reasons = schema["$defs"]["ConnectReason"]["enum"]
    assert reasons == [r.value for r in ConnectReason]
