"""CA registration through the REST API: codes, the ten checks, binding, on both databases."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mqtt_ca_registry.clock import FrozenClock
from tests.ca_certificates.helpers import new_code, register, registered_ca
from tests.instances.test_router import assert_problem
from tests.support.certs import NOW, ec_key, make_ca, make_leaf, name, rsa_key


class TestRegistrationCodes:
    async def test_ok_fresh_unguessable_codes(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        response = await client.post(f"/v1/instances/{platinum_instance}/registration-codes")
        assert response.status_code == 201
        body = response.json()
        assert body["instance_id"] == platinum_instance
        assert body["expires_at"] is None
        assert body["created_at"] == "2026-06-01T12:00:00Z"
        codes = {await new_code(client, platinum_instance) for _ in range(20)}
        assert len(codes) == 20
        assert all(len(c) == 44 for c in codes)

    async def test_fail_unknown_instance(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/instances/nope-nope/registration-codes")
        assert_problem(response, 404, "InstanceNotFound")

    async def test_fail_edition(self, client: httpx.AsyncClient) -> None:
        await client.post(
            "/v1/instances", json={"instance_id": "basic-one", "name": "b", "edition": "basic"}
        )
        response = await client.post("/v1/instances/basic-one/registration-codes")
        assert_problem(response, 403, "InstanceEditionNotSupported")

    async def test_oldest_unused_codes_are_dropped(
        self, client: httpx.AsyncClient, platinum_instance: str, settings: object
    ) -> None:
        limit = 100
        codes = []
        for _ in range(limit + 1):
            codes.append(await new_code(client, platinum_instance))
        ca = make_ca()
        oldest = await register(client, platinum_instance, ca, code=codes[0])
        assert_problem(oldest, 422, "RegisterCodeError")
        newest = await register(client, platinum_instance, ca, code=codes[-1])
        assert newest.status_code == 201, newest.text


class TestRegisterCa:
    async def test_ok_ec(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        ca = make_ca("Factory CA")
        code = await new_code(client, platinum_instance)
        response = await register(client, platinum_instance, ca, name="factory", code=code)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["sn"] == ca.sn
        assert body["status"] == "active"
        assert body["name"] == "factory"
        assert body["key_algorithm"] == "EC"
        assert body["key_size"] == 256
        assert body["curve"] == "P-256"
        assert body["registration_code"] == code
        assert body["device_count"] == 0
        assert body["instance_id"] == platinum_instance
        assert "Factory CA" in body["subject"]
        assert body["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
        assert body["verification_certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")

    async def test_ok_rsa(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        response = await register(client, platinum_instance, make_ca(key=rsa_key(2048)))
        assert response.status_code == 201, response.text
        assert (response.json()["key_algorithm"], response.json()["key_size"]) == ("RSA", 2048)

    async def test_ok_exactly_at_not_after(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca(not_after=NOW)
        response = await register(client, platinum_instance, ca)
        assert response.status_code == 201, response.text

    async def test_fail_one_second_after_not_after(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca(not_after=NOW - timedelta(seconds=1))
        assert_problem(await register(client, platinum_instance, ca), 422, "CaExpired")

    async def test_fail_one_second_before_not_before(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca(not_before=NOW + timedelta(seconds=1))
        assert_problem(await register(client, platinum_instance, ca), 422, "CaNotYetValid")

    @pytest.mark.parametrize(
        ("kwargs", "code"),
        [
            pytest.param(
                {"basic_constraints": False}, "CaBasicConstraintsMissing", id="fail/ca-false"
            ),
            pytest.param(
                {"basic_constraints": None},
                "CaBasicConstraintsMissing",
                id="fail/no-basic-constraints",
            ),
            pytest.param(
                {"key": ed25519.Ed25519PrivateKey.generate()}, "CaKeyUnsupported", id="fail/ed25519"
            ),
        ],
    )
    async def test_fail_ca_content(
        self,
        client: httpx.AsyncClient,
        platinum_instance: str,
        kwargs: dict[str, object],
        code: str,
    ) -> None:
        ca = make_ca(**kwargs)  # type: ignore[arg-type]
        problem = assert_problem(await register(client, platinum_instance, ca), 422, code)
        assert problem["errors"][0]["field"] == "ca_certificate"  # type: ignore[index]

    async def test_fail_rsa_1024(self, client: httpx.AsyncClient, platinum_instance: str) -> None:
        ca = make_ca(key=rsa_key(1024))
        problem = assert_problem(
            await register(client, platinum_instance, ca), 422, "CaKeyUnsupported"
        )
        assert "1024" in str(problem["detail"])

    async def test_fail_not_signed_by_ca_key(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca("Same Name CA")
        impostor = make_ca("Same Name CA")  # same issuer name, different key
        code = await new_code(client, platinum_instance)
        verification = make_leaf(impostor, code).pem
        response = await register(client, platinum_instance, ca, verification=verification)
        assert_problem(response, 422, "VerificationSignatureInvalid")
        # the code was not consumed by the failed attempt
        assert (await register(client, platinum_instance, ca, code=code)).status_code == 201

    async def test_fail_verification_issuer_mismatch(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca("Real CA")
        code = await new_code(client, platinum_instance)
        verification = make_leaf(ca, code, issuer_name=name("Someone Else")).pem
        response = await register(client, platinum_instance, ca, verification=verification)
        assert_problem(response, 422, "VerificationIssuerMismatch")

    async def test_fail_verification_expired(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca()
        code = await new_code(client, platinum_instance)
        verification = make_leaf(ca, code, not_after=NOW - timedelta(seconds=1)).pem
        response = await register(client, platinum_instance, ca, verification=verification)
        assert_problem(response, 422, "VerificationExpired")

    async def test_fail_cn_not_a_code(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca()
        verification = make_leaf(ca, "i29adsjfp29jfj92jlajsdf").pem
        response = await register(client, platinum_instance, ca, verification=verification)
        assert_problem(response, 422, "RegisterCodeError")

    async def test_fail_code_of_another_instance(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        await client.post(
            "/v1/instances",
            json={"instance_id": "other-one", "name": "o", "edition": "enterprise_platinum"},
        )
        other_code = await new_code(client, "other-one")
        response = await register(client, platinum_instance, make_ca(), code=other_code)
        assert_problem(response, 422, "RegisterCodeError")

    async def test_fail_code_already_used(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        code = await new_code(client, platinum_instance)
        assert (await register(client, platinum_instance, make_ca(), code=code)).status_code == 201
        response = await register(client, platinum_instance, make_ca(), code=code)
        assert_problem(response, 409, "RegisterCodeUsed")

    async def test_fail_code_expired(
        self, client: httpx.AsyncClient, platinum_instance: str, clock: FrozenClock
    ) -> None:
        backend = client._transport.app.state.backend  # type: ignore[attr-defined]
        backend.settings = backend.settings.model_copy(update={"registration_code_ttl_seconds": 60})
        code = await new_code(client, platinum_instance)
        ca = make_ca(not_after=NOW + timedelta(days=10))
        clock.advance(timedelta(seconds=61))
        assert_problem(
            await register(client, platinum_instance, ca, code=code), 422, "RegisterCodeError"
        )

    async def test_fail_duplicate_serial_different_certificate(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        first = await registered_ca(client, platinum_instance, serial=0x1234)
        second = make_ca("Another CA", serial=first.cert.serial_number)
        assert_problem(await register(client, platinum_instance, second), 409, "SnNotUnique")

    async def test_fail_same_ca_twice_on_one_instance(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = await registered_ca(client, platinum_instance)
        assert_problem(await register(client, platinum_instance, ca), 409, "CaAlreadyRegistered")

    @pytest.mark.parametrize(
        ("field", "value", "code", "status"),
        [
            pytest.param("ca_certificate", "", "CertificateMissing", 422, id="fail/empty"),
            pytest.param(
                "ca_certificate",
                "hello, I am a certificate",
                "CertificateMalformed",
                422,
                id="fail/garbage",
            ),
            pytest.param(
                "ca_certificate",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "CertificateMalformed",
                422,
                id="fail/bad-der",
            ),
            pytest.param("ca_certificate", "A" * 70_000, "InputTooLarge", 413, id="fail/oversize"),
            pytest.param(
                "verification_certificate",
                "garbage",
                "CertificateMalformed",
                422,
                id="fail/verification-garbage",
            ),
        ],
    )
    async def test_fail_input(
        self,
        client: httpx.AsyncClient,
        platinum_instance: str,
        field: str,
        value: str,
        code: str,
        status: int,
    ) -> None:
        ca = make_ca()
        body = {
            "name": "x",
            "ca_certificate": ca.pem,
            "verification_certificate": make_leaf(
                ca, await new_code(client, platinum_instance)
            ).pem,
        }
        body[field] = value
        response = await client.post(
            f"/v1/instances/{platinum_instance}/ca-certificates", json=body
        )
        problem = assert_problem(response, status, code)
        assert problem["errors"][0]["field"] == field  # type: ignore[index]

    async def test_fail_two_certificates(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        ca = make_ca()
        code = await new_code(client, platinum_instance)
        body = {
            "name": "x",
            "ca_certificate": ca.pem + make_ca().pem,
            "verification_certificate": make_leaf(ca, code).pem,
        }
        response = await client.post(
            f"/v1/instances/{platinum_instance}/ca-certificates", json=body
        )
        assert_problem(response, 422, "CertificateNotSingle")

    @pytest.mark.parametrize("field", ["ca_certificate", "verification_certificate"])
    async def test_fail_private_key_pasted(
        self,
        client: httpx.AsyncClient,
        platinum_instance: str,
        field: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        ca = make_ca(key=ec_key())
        code = await new_code(client, platinum_instance)
        body = {
            "name": "x",
            "ca_certificate": ca.pem,
            "verification_certificate": make_leaf(ca, code).pem,
        }
        body[field] = body[field] + ca.key_pem
        response = await client.post(
            f"/v1/instances/{platinum_instance}/ca-certificates", json=body
        )
        assert_problem(response, 422, "PrivateKeyRejected")
        key_body = ca.key_pem.splitlines()[1]
        assert key_body not in response.text
        assert key_body not in caplog.text

    @pytest.mark.parametrize("name_", ["", "x" * 65])
    async def test_fail_name(
        self, client: httpx.AsyncClient, platinum_instance: str, name_: str
    ) -> None:
        response = await register(client, platinum_instance, make_ca(), name=name_)
        assert_problem(response, 422, "ValidationFailed")

    async def test_fail_edition(self, client: httpx.AsyncClient) -> None:
        await client.post(
            "/v1/instances", json={"instance_id": "pro-one", "name": "p", "edition": "professional"}
        )
        response = await client.post(
            "/v1/instances/pro-one/ca-certificates",
            json={"name": "x", "ca_certificate": make_ca().pem, "verification_certificate": "x"},
        )
        assert_problem(response, 403, "InstanceEditionNotSupported")

    async def test_checks_run_in_order(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        """An expired CA without basicConstraints reports the earlier check (5 before 7)."""
        ca = make_ca(basic_constraints=None, not_after=NOW - timedelta(days=1))
        assert_problem(
            await register(client, platinum_instance, ca), 422, "CaBasicConstraintsMissing"
        )


class TestBindingToSeveralInstances:
    async def test_ok_second_binding_has_its_own_status(
        self, client: httpx.AsyncClient, platinum_instance: str
    ) -> None:
        await client.post(
            "/v1/instances",
            json={"instance_id": "second-one", "name": "s", "edition": "enterprise_platinum"},
        )
        ca = await registered_ca(client, platinum_instance)
        second = await register(client, "second-one", ca)
        assert second.status_code == 201, second.text
        deactivated = await client.post(
            f"/v1/instances/{platinum_instance}/ca-certificates/{ca.sn}/deactivate"
        )
        assert deactivated.json()["status"] == "inactive"
        other = await client.get(f"/v1/instances/second-one/ca-certificates/{ca.sn}")
        assert other.json()["status"] == "active"
