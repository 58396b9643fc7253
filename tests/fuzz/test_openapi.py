"""Schemathesis against the OpenAPI document of a live server, on SQLite and on PostgreSQL.

Every operation becomes one test item (so `-n 2` spreads them), each fuzzed with positive and
negative data plus schemathesis' coverage cases. Checks: no 5xx, documented status codes,
content types, response bodies and headers, and that every /v1 operation refuses a missing or
wrong API token (the servers run with one).

The document is built from the app at import time, because schemathesis needs it to create the
items; each server is then asserted to serve exactly it at /openapi.json. (The lazy
`schemathesis.pytest.from_fixture` loader would fetch it from the server, but schemathesis
4.32 writes `Function._nodeid`, which pytest 9.2 no longer has.)

Random ids only ever reach 404s, so known objects (instances, a registered CA and device with
fixed serials, real PEMs) are offered as parameter values, and restored before each operation
in case an earlier one deleted or deactivated them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.fuzz.budget import SEED, examples
from tests.fuzz.openapi_document import openapi_document
from tests.fuzz.seeding import KNOWN, ensure_known_objects
from tests.support.servers import LiveServerFactory

API_TOKEN = "fuzz-api-token"
# Valid RFC 3339 times at the edges of what a datetime can hold once converted to UTC.
EDGE_TIMES = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2026-06-01T12:00:00Z",
    "2026-06-01T12:00:00",
]
# Checks left off: positive_data_acceptance (an opaque cursor or a non-hex Sn the schema allows
# is rightly a 400), unsupported_method (405s lack an Allow header: reported, not hidden here),
# and the stateful ones (use_after_free, ensure_resource_availability: no links declared).
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
]


def schemathesis_config() -> dict[str, Any]:
    """The run's configuration, as a schemathesis.toml would hold it."""
    dictionaries = {
        "instance_ids": list(KNOWN.instance_ids),
        "ca_sns": KNOWN.ca_sn_spellings(),
        "device_sns": KNOWN.device_sn_spellings(),
        "chains": KNOWN.chain_samples(),
        "ca_pems": KNOWN.ca_samples(),
        "verification_pems": KNOWN.verification_samples(),
        "edge_times": EDGE_TIMES,
    }
    bindings = {
        "path.instance_id": ("instance_ids", 0.6),
        "path.sn": ("ca_sns", 0.6),
        "path.ca_sn": ("ca_sns", 0.6),
        "path.device_sn": ("device_sns", 0.6),
        "query.sn": ("ca_sns", 0.3),
        "query.ca_sn": ("ca_sns", 0.3),
        "query.since": ("edge_times", 0.2),
        "query.until": ("edge_times", 0.2),
        "body.certificate_chain": ("chains", 0.5),
        "body.ca_certificate": ("ca_pems", 0.5),
        "body.verification_certificate": ("verification_pems", 0.5),
    }
    return {
        "seed": SEED,
        "auth": {"openapi": {"HTTPBearer": {"bearer": API_TOKEN}}},
        "generation": {"max-examples": examples(ci=100, local=20), "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
        "parameters": {
            key: {"dictionary": name, "probability": probability}
            for key, (name, probability) in bindings.items()
        },
    }


schema = schemathesis.openapi.from_dict(
    openapi_document(), config=schemathesis.Config.from_dict(schemathesis_config())
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rest_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_available: bool,
) -> Iterator[str]:
    """One server per backend and test worker, with an API token; yields its base URL."""
    tmp_path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    database_name = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    else:
        if not postgres_available:
            pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
        database_name = f"mqttcar_fuzz_{uuid.uuid4().hex[:12]}"  # unique across workers
        database_url = create_postgres_database(database_name)
    factory = LiveServerFactory(tmp_path)
    try:
        server = factory.start(database_url, env={"MQTT_CA_REGISTRY_API_TOKEN": API_TOKEN})
        with httpx.Client(trust_env=False) as client:
            served = client.get(server.base_url + "/openapi.json").json()
        assert served == openapi_document(), "the server serves another OpenAPI document"
        yield server.base_url
    finally:
        factory.stop_all()
        if database_name:
            drop_postgres_database(database_name)


@pytest.fixture
def base_url(rest_server: str) -> str:
    ensure_known_objects(rest_server, KNOWN, token=API_TOKEN)
    return rest_server


@pytest.fixture(scope="module")
def http_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # loopback only: never through a proxy from the environment
        yield session


@schema.parametrize()
# base_url restores the known objects once per operation, not per case: on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_rest_api(case: schemathesis.Case, base_url: str, http_session: requests.Session) -> None:
    case.call_and_validate(base_url=base_url, session=http_session)
