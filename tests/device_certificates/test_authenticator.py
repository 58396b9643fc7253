"""The Authenticator as a front end other than HTTP calls it: the DER chain a TLS client
presented, and the transport recorded in the audit trail."""

from __future__ import annotations

import httpx
from cryptography.hazmat.primitives.serialization import Encoding

from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.backend import Backend
from mqtt_ca_registry.clock import FrozenClock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from tests.ca_certificates.helpers import registered_ca
from tests.support.certs import make_ca, make_leaf


def _der(issued: object) -> bytes:
    return issued.cert.public_bytes(Encoding.DER)  # type: ignore[attr-defined]


async def test_a_gateway_decides_presented_der_chains_and_the_trail_names_it(
    settings: Settings, clock: FrozenClock, database: Database
) -> None:
    app = create_app(settings, clock=clock, database=database)
    backend: Backend = app.state.backend
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        created = await client.post(
            "/v1/instances",
            json={"instance_id": "mqtt-cn-tls", "name": "tls", "edition": "enterprise_platinum"},
        )
        assert created.status_code == 201
        root = await registered_ca(client, "mqtt-cn-tls")
        intermediate = make_ca("TLS Intermediate", issuer=root)
        device = make_leaf(intermediate, "tls-device")
        chain = [_der(device), _der(intermediate)]

        first = await backend.authenticator.authenticate("mqtt-cn-tls", chain, transport="mqtt")
        again = await backend.authenticator.authenticate("mqtt-cn-tls", chain, transport="mqtt")
        # The same certificates posted as PEM text are the same chain: one device.
        posted = await backend.authenticator.authenticate(
            "mqtt-cn-tls", device.pem + intermediate.pem
        )
        stranger = make_leaf(make_ca("Stranger"), "stranger")
        refused = await backend.authenticator.authenticate(
            "mqtt-cn-tls", [_der(stranger)], transport="mqtt"
        )
        assert (first.reason, again.reason, posted.reason) == (
            "auto_registered",
            "accepted",
            "accepted",
        )
        assert first.device is not None and first.device.ca_sn == root.sn
        assert refused.reason == "unknown_issuer"

        trail = (await client.get("/v1/instances/mqtt-cn-tls/events")).json()["items"]
        by_type = {event["type"]: event for event in trail}
        assert by_type["device.auto_registered"]["details"]["transport"] == "mqtt"
        assert by_type["authentication.rejected"]["details"]["transport"] == "mqtt"
