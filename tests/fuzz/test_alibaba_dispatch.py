"""Fuzzing the Alibaba OpenAPI front end (`GET|POST /`) of a live server.

Its OpenAPI entry declares no parameters (everything arrives as Alibaba query or form pairs),
so schemathesis cannot reach the dispatch; these properties generate Alibaba-shaped calls
instead: real and made-up Actions, the parameters the adapters read, known ids and PEMs, junk,
and signature material. With signature checking off every action runs; with it on, nothing
unsigned may ever succeed. Either way: never a 5xx, only documented statuses, and Alibaba's
error body on every failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, event, given, seed
from hypothesis import strategies as st

from mqtt_ca_registry.alibaba.router import ACTIONS, API_VERSION
from tests.fuzz.budget import SEED, fuzz_settings
from tests.fuzz.openapi_document import documented_statuses
from tests.fuzz.seeding import KNOWN, ensure_known_objects
from tests.support.servers import LiveServerFactory

ERROR_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}
FORM = "application/x-www-form-urlencoded"
# Actions that change the known objects; after one succeeds they are restored.
DESTRUCTIVE = {
    "DeleteCaCertificate",
    "InactivateCaCertificate",
    "DeleteDeviceCertificate",
    "InactivateDeviceCertificate",
}
_CA = ["MqttInstanceId", "Sn"]
_DEVICE = ["MqttInstanceId", "CaSn", "DeviceSn"]
_PAGE = ["PageNo", "PageSize"]
# The parameters each action reads (alibaba/ca_actions.py, alibaba/device_actions.py).
ACTION_PARAMETERS: dict[str, list[str]] = {
    "RegisterCaCertificate": ["MqttInstanceId", "CaName", "CaContent", "VerificationContent"],
    "GetRegisterCode": ["MqttInstanceId"],
    "GetCaCertificate": _CA,
    "ListCaCertificate": ["MqttInstanceId", *_PAGE],
    "ActiveCaCertificate": _CA,
    "InactivateCaCertificate": _CA,
    "DeleteCaCertificate": _CA,
    "GetDeviceCertificate": _DEVICE,
    "ListDeviceCertificate": ["MqttInstanceId", *_PAGE],
    "ListDeviceCertificateByCaSn": ["MqttInstanceId", "CaSn", *_PAGE],
    "ActiveDeviceCertificate": _DEVICE,
    "InactivateDeviceCertificate": _DEVICE,
    "DeleteDeviceCertificate": _DEVICE,
    "ListInstances": ["Tags"],
}
PARAMETERS = sorted({p for names in ACTION_PARAMETERS.values() for p in names} | {"RegionId"})
SIGNATURE_PARAMETERS = [
    "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp",
    "SignatureNonce", "SecurityToken",
]  # fmt: skip

# Text without lone surrogates (they cannot be sent); NUL and other controls stay in.
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)
# Printable ASCII without surrounding blanks: anything else is not a valid HTTP header value.
_header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80).map(
    str.strip
)
_known_values = st.sampled_from(
    [
        *KNOWN.instance_ids,
        *KNOWN.ca_sn_spellings(),
        *KNOWN.device_sn_spellings(),
        *KNOWN.chain_samples(),
        *KNOWN.ca_samples(),
        *KNOWN.verification_samples(),
        "1", "10", "100", "101", "0", "-1", "1e3", "99999999999999999999", " 5 ",
        '[{"key":"env","value":"ci"}]', "[]", "{}", "null", '[{"value":"x"}]',
        "HMAC-SHA1", "1.0", "2026-11-28T12:00:00Z", "LTAI5tLocalEmulatorKey",
    ]
)  # fmt: skip
# Deeply nested JSON (around Python's recursion limit): parsers must refuse it, not crash.
# Kept short enough that a few of them still fit in one URL.
_nested_json = st.sampled_from([2, 999, 1001, 1500]).flatmap(
    lambda depth: st.sampled_from(["[" * depth, "[" * depth + "]" * depth, '[{"key":' * 3])
)
_values = st.one_of(_known_values, _text, st.integers().map(str), _nested_json)
# Values each parameter accepts, so that calls get past parameter checks into the services.
_GOOD: dict[str, list[str]] = {
    "MqttInstanceId": list(KNOWN.instance_ids),
    "Sn": KNOWN.ca_sn_spellings(),
    "CaSn": KNOWN.ca_sn_spellings(),
    "DeviceSn": KNOWN.device_sn_spellings(),
    "PageNo": ["1", "2"],
    "PageSize": ["1", "10", "100"],
    "CaName": ["fuzz-ca", "x" * 64],
    "CaContent": KNOWN.ca_samples(),
    "VerificationContent": KNOWN.verification_samples(),
    "Tags": ['[{"key":"env","value":"ci"}]', "[]"],
}


def _mostly(draw: st.DrawFn, good: st.SearchStrategy[str], other: st.SearchStrategy[str]) -> str:
    """Draw from ``good`` four times in five, so most calls reach past the first check."""
    return draw(good if draw(st.integers(0, 4)) else other)


def _parameter_value(draw: st.DrawFn, name: str) -> str:
    good = _GOOD.get(name)
    return _mostly(draw, st.sampled_from(good), _values) if good else draw(_values)


@dataclass
class AlibabaCall:
    """One request to `/`: method, query pairs, optional form body, headers."""

    method: str
    query: list[tuple[str, str]] = field(default_factory=list)
    form: list[tuple[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def action(self) -> str | None:
        """The action the server dispatches on: the first non-empty Action pair, else the header."""
        for key, value in (*self.query, *(self.form or [])):
            if key == "Action" and value:
                return value
        return self.headers.get("x-acs-action") or None


@st.composite
def _signature_noise(draw: st.DrawFn) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """RPC signature parameters and/or ACS3 headers, plausible or junk (never valid)."""
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(SIGNATURE_PARAMETERS), _values.filter(bool)), max_size=6)
    )
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        credential = draw(st.sampled_from(["LTAI5tLocalEmulatorKey", "unknown-key", ""]))
        headers["authorization"] = draw(
            st.one_of(
                _header_text,
                st.just(
                    f"ACS3-HMAC-SHA256 Credential={credential},"
                    "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                    "x-acs-signature-nonce;x-acs-version,Signature=" + "0" * 64
                ),
            )
        )
        for name in ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"):
            if draw(st.booleans()):
                headers[name] = draw(_header_text)
    return pairs, headers


@st.composite
def alibaba_calls(draw: st.DrawFn) -> AlibabaCall:
    """An Alibaba-style call: an Action (known or not), parameters, maybe signature material."""
    method = draw(st.sampled_from(["GET", "POST"]))
    action = _mostly(
        draw, st.sampled_from(sorted(ACTIONS)), st.one_of(_text, st.sampled_from(["", "Get"]))
    )
    # The action's own parameters (each maybe left out), then arbitrary extra pairs.
    pairs = [
        (name, _parameter_value(draw, name))
        for name in ACTION_PARAMETERS.get(action, [])
        if draw(st.integers(0, 9))
    ]
    pairs += draw(
        st.lists(
            st.tuples(st.one_of(st.sampled_from(PARAMETERS), _header_text), _values), max_size=4
        )
    )
    placement = draw(st.sampled_from(["parameter", "parameter", "header", "none"]))
    headers: dict[str, str] = {}
    if placement == "parameter":
        pairs.insert(0, ("Action", action))
    elif placement == "header":
        # Header values must be printable ASCII to be valid HTTP at all.
        headers["x-acs-action"] = "".join(c for c in action if " " <= c <= "~").strip()
    if draw(st.booleans()):
        noise_pairs, noise_headers = draw(_signature_noise())
        pairs += noise_pairs
        headers.update(noise_headers)
    call = AlibabaCall(method, headers=headers)
    if method == "POST" and draw(st.booleans()):
        # The adapters read form pairs too (the SDK sends long PEMs that way).
        cut = draw(st.integers(0, len(pairs)))
        call.query, call.form = pairs[:cut], pairs[cut:]
    else:
        call.query = pairs
    # Version is read from the query or the x-acs-version header only, never from a form.
    version = _mostly(draw, st.just(API_VERSION), _header_text)
    if draw(st.booleans()):
        headers["x-acs-version"] = version
    else:
        call.query.append(("Version", version))
    return call


def send(client: httpx.Client, call: AlibabaCall) -> httpx.Response:
    headers = dict(call.headers)
    content = None
    if call.form is not None:
        headers["content-type"] = FORM
        content = urlencode(call.form).encode()
    return client.request(call.method, "/", params=call.query, headers=headers, content=content)


def check_response(call: AlibabaCall, response: httpx.Response, *, signed: bool) -> None:
    """What every answer of `/` must look like."""
    status = response.status_code
    described = f"{call} -> {status} {response.text[:500]}"
    assert status < 500, described
    assert status in documented_statuses("/", call.method), described
    if status == 307:
        assert call.method == "GET" and call.action is None, described
        return
    assert response.headers["content-type"].startswith("application/json"), described
    body = response.json()
    if status == 200:
        assert call.action is not None and not signed, described
        assert isinstance(body, dict) and isinstance(body.get("RequestId"), str), described
        return
    assert isinstance(body, dict) and set(body) == ERROR_FIELDS, described
    assert all(isinstance(body[name], str) for name in ERROR_FIELDS), described
    assert body["Code"] and body["RequestId"] == response.headers["x-request-id"], described


def _code(response: httpx.Response) -> str:
    if response.status_code in (200, 307):
        return ""
    return str(response.json()["Code"])


@dataclass
class Target:
    client: httpx.Client
    signed: bool


@pytest.fixture
def target(
    request: pytest.FixtureRequest, live_server: LiveServerFactory, scratch_database_url: str
) -> Iterator[Target]:
    signed: bool = request.param
    env = {"MQTT_CA_REGISTRY_ALIBABA_VERIFY_SIGNATURES": "true" if signed else "false"}
    server = live_server.start(scratch_database_url, env=env)
    ensure_known_objects(server.base_url, KNOWN)
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
        yield Target(client, signed)


@pytest.mark.parametrize(
    ("scratch_database_url", "target"),
    [
        pytest.param("sqlite", False, id="sqlite-unsigned"),
        pytest.param("postgresql", False, id="postgresql-unsigned"),
        pytest.param("sqlite", True, id="sqlite-signed"),
    ],
    indirect=True,
)
# One server for all examples, on purpose: state carries over as it would in real use.
@fuzz_settings(ci=300, local=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@seed(SEED)
@given(call=alibaba_calls())
def test_alibaba_dispatch(target: Target, call: AlibabaCall) -> None:
    response = send(target.client, call)
    check_response(call, response, signed=target.signed)
    # `pytest --hypothesis-show-statistics` shows how far the calls got.
    known = call.action if call.action in ACTIONS else "other"
    event(f"{known} -> {response.status_code} {_code(response)}")
    if response.status_code == 200 and call.action in DESTRUCTIVE:
        ensure_known_objects(str(target.client.base_url), KNOWN)
