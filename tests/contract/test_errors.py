"""Domain errors as the SDK raises them: ClientException with the documented Code and status,
and a Message that tells the user what to fix."""

from __future__ import annotations

from alibabacloud_onsmqtt20200420 import models as mqtt

from tests.contract.support import (
    Registry,
    Sdk,
    assert_client_error,
    device_ids,
    new_ca,
    new_leaf,
    register_ca,
    register_code,
    registration,
    sdk_error,
)

UNKNOWN_INSTANCE = "mqtt-cn-doesnotexist"
UNKNOWN_SN = "0a1b2c3d4e5f"


async def test_unknown_instance(sdk: Sdk) -> None:
    error = await sdk_error(
        sdk.call(
            "get_register_code", mqtt.GetRegisterCodeRequest(mqtt_instance_id=UNKNOWN_INSTANCE)
        )
    )
    assert_client_error(error, "MqttInstanceNotFound", 400, UNKNOWN_INSTANCE, "ListInstances")
    ca = new_ca()
    error = await sdk_error(
        sdk.call(
            "register_ca_certificate",
            registration(UNKNOWN_INSTANCE, ca, new_leaf(ca, "any-code")),
        )
    )
    assert_client_error(error, "MqttInstanceNotFound", 400, UNKNOWN_INSTANCE)


async def test_edition_without_certificates(sdk: Sdk, registry: Registry) -> None:
    basic = registry.new_instance(edition="basic")
    error = await sdk_error(
        sdk.call("get_register_code", mqtt.GetRegisterCodeRequest(mqtt_instance_id=basic))
    )
    assert_client_error(error, "Emulator.InstanceEditionNotSupported", 403, "enterprise_platinum")


async def test_ca_not_found(sdk: Sdk, instance: str) -> None:
    ids = {"mqtt_instance_id": instance, "sn": UNKNOWN_SN}
    for method, request in (
        ("get_ca_certificate", mqtt.GetCaCertificateRequest(**ids)),
        ("active_ca_certificate", mqtt.ActiveCaCertificateRequest(**ids)),
        ("inactivate_ca_certificate", mqtt.InactivateCaCertificateRequest(**ids)),
        ("delete_ca_certificate", mqtt.DeleteCaCertificateRequest(**ids)),
    ):
        error = await sdk_error(sdk.call(method, request))
        assert_client_error(
            error,
            "FindCaBySnError",
            400,
            UNKNOWN_SN,
            f"ListCaCertificate (MqttInstanceId={instance})",
        )


async def test_device_not_found(sdk: Sdk, instance: str) -> None:
    ca = await register_ca(sdk, instance)
    ids = device_ids(instance, ca.sn, UNKNOWN_SN)
    for method, request in (
        ("get_device_certificate", mqtt.GetDeviceCertificateRequest(**ids)),
        ("active_device_certificate", mqtt.ActiveDeviceCertificateRequest(**ids)),
        ("inactivate_device_certificate", mqtt.InactivateDeviceCertificateRequest(**ids)),
        ("delete_device_certificate", mqtt.DeleteDeviceCertificateRequest(**ids)),
    ):
        error = await sdk_error(sdk.call(method, request))
        assert_client_error(error, "FindDeviceBySnError", 400, UNKNOWN_SN, "ListDeviceCertificate")


async def test_wrong_registration_code(sdk: Sdk, registry: Registry, instance: str) -> None:
    ca = new_ca()
    error = await sdk_error(
        sdk.call(
            "register_ca_certificate",
            registration(instance, ca, new_leaf(ca, "not-a-registration-code")),
        )
    )
    assert_client_error(
        error, "RegisterCodeError", 400, "CN", "registration code", instance, "GetRegisterCode"
    )
    # a code of another instance is not a code of this one
    other_code = await register_code(sdk, registry.new_instance())
    error = await sdk_error(
        sdk.call("register_ca_certificate", registration(instance, ca, new_leaf(ca, other_code)))
    )
    assert_client_error(error, "RegisterCodeError", 400, "CN", instance)


async def test_used_registration_code(sdk: Sdk, instance: str) -> None:
    code = await register_code(sdk, instance)
    first, second = new_ca("First CA"), new_ca("Second CA")
    await sdk.call("register_ca_certificate", registration(instance, first, new_leaf(first, code)))
    error = await sdk_error(
        sdk.call("register_ca_certificate", registration(instance, second, new_leaf(second, code)))
    )
    assert_client_error(error, "RegisterCodeUsed", 401, "already been used", "new code")


async def test_certificate_content_errors(sdk: Sdk, instance: str) -> None:
    code = await register_code(sdk, instance)
    good = new_ca("Good CA")
    garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    not_a_ca = new_ca("No basicConstraints", basic_constraints=None)
    end_entity = new_ca("CA:FALSE", basic_constraints=False)
    impostor = new_ca("Impostor", subject=good.cert.subject)
    cases = [
        (
            "not a PEM",
            mqtt.RegisterCaCertificateRequest(
                ca_content="not a certificate",
                ca_name="garbage",
                mqtt_instance_id=instance,
                verification_content=new_leaf(good, code).pem,
            ),
            "PEM",
        ),
        (
            "garbage PEM body",
            mqtt.RegisterCaCertificateRequest(
                ca_content=garbage,
                ca_name="garbage",
                mqtt_instance_id=instance,
                verification_content=new_leaf(good, code).pem,
            ),
            "parseable X.509",
        ),
        (
            "no basicConstraints",
            registration(instance, not_a_ca, new_leaf(not_a_ca, code)),
            "BasicConstraints",
        ),
        (
            "CA:FALSE",
            registration(instance, end_entity, new_leaf(end_entity, code)),
            "BasicConstraints",
        ),
        (
            # names the CA as issuer, but signed by another key: no proof of possession
            "proof of possession",
            registration(instance, good, new_leaf(impostor, code)),
            "private key",
        ),
    ]
    for label, request, fragment in cases:
        error = await sdk_error(sdk.call("register_ca_certificate", request))
        try:
            assert_client_error(error, "CertificateContentError", 401, fragment)
        except AssertionError as failure:
            raise AssertionError(f"{label}: {failure}") from failure
    # nothing was consumed or stored: the same code still registers the good CA
    await sdk.call("register_ca_certificate", registration(instance, good, new_leaf(good, code)))


async def test_duplicate_serial(sdk: Sdk, registry: Registry, instance: str) -> None:
    ca = await register_ca(sdk, instance)
    twin = new_ca("Different CA, same serial", serial=ca.cert.serial_number)
    for target in (instance, registry.new_instance()):
        code = await register_code(sdk, target)
        error = await sdk_error(
            sdk.call("register_ca_certificate", registration(target, twin, new_leaf(twin, code)))
        )
        assert_client_error(error, "SnNotUnique", 401, ca.sn)
    # the same certificate again on the same instance is a duplicate too
    code = await register_code(sdk, instance)
    error = await sdk_error(
        sdk.call("register_ca_certificate", registration(instance, ca, new_leaf(ca, code)))
    )
    assert_client_error(error, "SnNotUnique", 401, ca.sn)


async def test_missing_or_invalid_parameters(sdk: Sdk, instance: str) -> None:
    ca = new_ca()
    cases = [
        ("get_register_code", mqtt.GetRegisterCodeRequest(), "MqttInstanceId"),
        ("get_register_code", mqtt.GetRegisterCodeRequest(mqtt_instance_id=""), "MqttInstanceId"),
        ("get_ca_certificate", mqtt.GetCaCertificateRequest(mqtt_instance_id=instance), "Sn"),
        (
            "get_ca_certificate",
            mqtt.GetCaCertificateRequest(mqtt_instance_id=instance, sn="not-hex"),
            "Sn",
        ),
        (
            "get_ca_certificate",
            mqtt.GetCaCertificateRequest(mqtt_instance_id=instance, sn="ab" * 129),
            "128",
        ),
        (
            "register_ca_certificate",
            registration(instance, ca, new_leaf(ca, "code"), name=""),
            "CaName",
        ),
        (
            "register_ca_certificate",
            mqtt.RegisterCaCertificateRequest(
                mqtt_instance_id=instance, ca_name="n", ca_content=ca.pem
            ),
            "VerificationContent",
        ),
        (
            "get_device_certificate",
            mqtt.GetDeviceCertificateRequest(mqtt_instance_id=instance, ca_sn=ca.sn),
            "DeviceSn",
        ),
        (
            "list_device_certificate_by_ca_sn",
            mqtt.ListDeviceCertificateByCaSnRequest(
                mqtt_instance_id=instance, page_no="1", page_size="10"
            ),
            "CaSn",
        ),
        (
            "list_ca_certificate",
            mqtt.ListCaCertificateRequest(mqtt_instance_id=instance),
            "PageNo",
        ),
        ("list_instances", mqtt.ListInstancesRequest(tags="not json"), "Tags"),
    ]
    for method, request, named in cases:
        error = await sdk_error(sdk.call(method, request))
        assert_client_error(error, "ParameterFieldCheckFailed", 400, named)


async def test_messages_name_the_sdk_parameters_not_the_rest_fields(
    sdk: Sdk, instance: str
) -> None:
    ca = await register_ca(sdk, instance)
    for ids, named, rest in (
        (device_ids(instance, "not-hex", UNKNOWN_SN), "CaSn", "ca_sn"),
        (device_ids(instance, ca.sn, "not-hex"), "DeviceSn", "device_sn"),
    ):
        error = await sdk_error(
            sdk.call("get_device_certificate", mqtt.GetDeviceCertificateRequest(**ids))
        )
        assert_client_error(error, "ParameterFieldCheckFailed", 400, named)
        assert rest not in str(error.message)
