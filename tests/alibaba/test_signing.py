"""Request authentication for the Alibaba OpenAPI front end (ACS3-HMAC-SHA256 and RPC v1).

The oracle is the official SDK: its requests are captured on a local server and must verify;
tampered copies must fail with the code a user would look up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from alibabacloud_tea_openapi.utils import Utils
from starlette.datastructures import QueryParams

from mqtt_ca_registry.alibaba.signing import (
    NonceCache,
    RequestVerifier,
    SignatureError,
    SignatureErrorCode,
    SignedRequest,
    acs3_canonical_request,
    action_of,
    parse_access_keys,
    rpc_string_to_sign,
)
from mqtt_ca_registry.config import LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET
from tests.alibaba.sdk_capture import CASES, FLAVORS, MODES, CapturedRequest, capture_everything
from tests.support.servers import PROXY_VARIABLES

INCOMPLETE = SignatureErrorCode.INCOMPLETE_SIGNATURE
MISMATCH = {"acs3": INCOMPLETE, "rpc": SignatureErrorCode.SIGNATURE_DOES_NOT_MATCH}
SKEW = timedelta(minutes=15)
SECOND = timedelta(seconds=1)


def make_verifier(keys: dict[str, str] | None = None) -> RequestVerifier:
    keys = {LOCAL_ACCESS_KEY_ID: LOCAL_ACCESS_KEY_SECRET} if keys is None else keys
    return RequestVerifier(keys, NonceCache())


def stamp_of(request: SignedRequest) -> datetime:
    """The request's own signing time (x-acs-date or the RPC Timestamp)."""
    value = request.headers.get("x-acs-date") or dict(request.query)["Timestamp"]
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def rejected(
    verifier: RequestVerifier, request: SignedRequest, code: str, now: datetime | None = None
) -> SignatureError:
    """Assert verify() fails with ``code`` and a message that leaks no secret."""
    with pytest.raises(SignatureError) as caught:
        verifier.verify(request, now=now or stamp_of(request))
    error = caught.value
    assert error.code == code, error.message
    assert error.http_status == (404 if code == "InvalidAccessKeyId.NotFound" else 400)
    for secret in (LOCAL_ACCESS_KEY_SECRET, "testSecret", "wrong-secret"):
        assert secret not in error.message
    return error


def with_query(request: SignedRequest, key: str, value: str | None) -> SignedRequest:
    """The request with one query parameter changed (added at the end, or dropped if None)."""
    pairs = [(k, v) for k, v in request.query if k != key]
    if value is not None:
        pairs.append((key, value))
    return dataclasses.replace(request, query=pairs)


def with_header(request: SignedRequest, name: str, value: str | None) -> SignedRequest:
    headers = {k: v for k, v in request.headers.items() if k != name}
    if value is not None:
        headers[name] = value
    return dataclasses.replace(request, headers=headers)


def sdk_expected_signature(request: SignedRequest, secret: str) -> str:
    """What the SDK's own signer computes for this request with ``secret``."""
    if "authorization" in request.headers:
        signed = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
        fake = SimpleNamespace(
            pathname="/",
            method=request.method,
            query=dict(request.query),
            headers={name: request.headers[name] for name in signed.split(";")},
        )
        payload = hashlib.sha256(request.body).hexdigest()
        authorization = Utils.get_authorization(fake, "ACS3-HMAC-SHA256", payload, "x", secret)
        return str(authorization.rsplit("Signature=", 1)[1])
    params = {k: v for k, v in (*request.query, *request.form) if k != "Signature"}
    return str(Utils.get_rpcsignature(params, request.method, secret))


# --- Spec section 4.3: requests captured from the SDK, AK testAK / testSecret -----------------

SPEC_ACS3_TARGET = (
    "/?CaContent=-----BEGIN+CERTIFICATE-----%0AMIIB%2B%2Fa%3D%0A-----END+CERTIFICATE-----"
    "&CaName=my+ca&MqttInstanceId=mqtt-cn-i7m26mf%2A%2A%2A%2A&VerificationContent="
    "-----BEGIN+CERTIFICATE-----%0AMIIB%2B%2Fa%3D%0A-----END+CERTIFICATE-----"
)
SPEC_ACS3_HEADERS = {
    "Accept-Encoding": "identity",
    "host": "127.0.0.1:8000",
    "x-acs-version": "2020-04-20",
    "x-acs-action": "RegisterCaCertificate",
    "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
    "x-acs-date": "2026-11-28T10:29:54Z",
    "x-acs-signature-nonce": "c81209f356389ea100289a3a25d33434",
    "accept": "application/json",
    "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "x-acs-credentials-provider": "static_ak",
    "Authorization": "ACS3-HMAC-SHA256 Credential=testAK,SignedHeaders=accept;host;user-agent;"
    "x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;"
    "x-acs-signature-nonce;x-acs-version,"
    "Signature=a9ede05a0fe378ec2962ecf92470ac74bf5fc88f4719503e222b57bcf48faacc",
    "Content-Length": "0",
}
SPEC_ACS3_CANONICAL = """POST
/
CaContent=-----BEGIN%20CERTIFICATE-----%0AMIIB%2B%2Fa%3D%0A-----END%20CERTIFICATE-----&CaName=my%20ca&MqttInstanceId=mqtt-cn-i7m26mf%2A%2A%2A%2A&VerificationContent=-----BEGIN%20CERTIFICATE-----%0AMIIB%2B%2Fa%3D%0A-----END%20CERTIFICATE-----
accept:application/json
host:127.0.0.1:8000
user-agent:AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2
x-acs-action:RegisterCaCertificate
x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
x-acs-credentials-provider:static_ak
x-acs-date:2026-11-28T10:29:54Z
x-acs-signature-nonce:c81209f356389ea100289a3a25d33434
x-acs-version:2020-04-20

accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"""
SPEC_RPC_TARGET = (
    "/?Action=ListCaCertificate&Format=json&Version=2020-04-20&Timestamp=2026-11-28T10%3A29%3A55Z"
    "&SignatureNonce=f940d9db2b732ca68f16dfc83568d7d7&MqttInstanceId=mqtt-cn-i7m26mf%2A%2A%2A%2A"
    "&PageNo=1&PageSize=10&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=testAK"
    "&Signature=34UZWME%2FqYebZR2syiOGC%2FFLLug%3D"
)
SPEC_RPC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestAK%26Action%3DListCaCertificate%26Format%3Djson%26MqttInstanceId"
    "%3Dmqtt-cn-i7m26mf%252A%252A%252A%252A%26PageNo%3D1%26PageSize%3D10%26SignatureMethod%3D"
    "HMAC-SHA1%26SignatureNonce%3Df940d9db2b732ca68f16dfc83568d7d7%26SignatureVersion%3D1.0"
    "%26Timestamp%3D2026-11-28T10%253A29%253A55Z%26Version%3D2020-04-20"
)
SPEC_KEYS = {"testAK": "testSecret"}


def spec_request(method: str, target: str, headers: dict[str, str]) -> SignedRequest:
    query = QueryParams(target.partition("?")[2]).multi_items()
    return SignedRequest.from_http(method, query, headers, b"")


class TestSpecCapturedRequests:
    def test_acs3_post_canonical_request_is_exactly_the_spec(self) -> None:
        request = spec_request("POST", SPEC_ACS3_TARGET, SPEC_ACS3_HEADERS)
        signed_headers = SPEC_ACS3_CANONICAL.splitlines()[-2]
        canonical = acs3_canonical_request(request, signed_headers)
        assert canonical == SPEC_ACS3_CANONICAL
        assert hashlib.sha256(canonical.encode()).hexdigest() == (
            "0bf738b12b687a811c1b9670ebdfb5ca917f404b0a205d59c501c1b28256f2a9"
        )

    def test_acs3_post_verifies(self) -> None:
        request = spec_request("POST", SPEC_ACS3_TARGET, SPEC_ACS3_HEADERS)
        now = datetime(2026, 11, 28, 10, 29, 54, tzinfo=UTC)
        assert RequestVerifier(SPEC_KEYS, NonceCache()).verify(request, now=now) == "testAK"
        assert action_of(request) == "RegisterCaCertificate"

    def test_acs3_header_values_are_trimmed(self) -> None:
        headers = {**SPEC_ACS3_HEADERS, "accept": "  application/json \t"}
        request = spec_request("POST", SPEC_ACS3_TARGET, headers)
        now = datetime(2026, 11, 28, 10, 29, 54, tzinfo=UTC)
        assert RequestVerifier(SPEC_KEYS, NonceCache()).verify(request, now=now) == "testAK"

    def test_rpc_get_string_to_sign_is_exactly_the_spec(self) -> None:
        request = spec_request("GET", SPEC_RPC_TARGET, {"host": "127.0.0.1:8000"})
        assert rpc_string_to_sign(request) == SPEC_RPC_STRING_TO_SIGN

    def test_rpc_get_verifies(self) -> None:
        request = spec_request("get", SPEC_RPC_TARGET, {"host": "127.0.0.1:8000"})
        now = datetime(2026, 11, 28, 10, 29, 55, tzinfo=UTC)
        assert RequestVerifier(SPEC_KEYS, NonceCache()).verify(request, now=now) == "testAK"
        assert action_of(request) == "ListCaCertificate"


# --- The SDK as oracle -------------------------------------------------------------------------

SDK_KEYS = [f"{m}-{f}-{c}" for m in MODES for f in FLAVORS for c in CASES]


@pytest.fixture(scope="module")
def sdk_requests() -> Iterator[dict[str, CapturedRequest]]:
    """Real SDK requests (sync and async, ACS3 and RPC v1) signed with the local pair."""
    with pytest.MonkeyPatch.context() as patch:
        # darabonba honours HTTP(S)_PROXY but ignores NO_PROXY, so 127.0.0.1 would be proxied.
        for variable in PROXY_VARIABLES:
            patch.delenv(variable, raising=False)
        yield capture_everything(LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET)


@pytest.fixture(params=[f"{m}-{f}" for m in MODES for f in FLAVORS])
def register(
    request: pytest.FixtureRequest, sdk_requests: dict[str, CapturedRequest]
) -> tuple[str, SignedRequest]:
    """(mode, RegisterCaCertificate as sent) for every mode and flavor."""
    mode_flavor: str = request.param
    return mode_flavor.split("-")[0], sdk_requests[f"{mode_flavor}-RegisterCaCertificate"].signed()


@pytest.fixture(params=FLAVORS)
def acs3_register(
    request: pytest.FixtureRequest, sdk_requests: dict[str, CapturedRequest]
) -> SignedRequest:
    return sdk_requests[f"acs3-{request.param}-RegisterCaCertificate"].signed()


@pytest.fixture(params=FLAVORS)
def rpc_register(
    request: pytest.FixtureRequest, sdk_requests: dict[str, CapturedRequest]
) -> SignedRequest:
    return sdk_requests[f"rpc-{request.param}-RegisterCaCertificate"].signed()


class TestSdkRequestsVerify:
    @pytest.mark.parametrize("key", SDK_KEYS, ids=[f"ok/{k}" for k in SDK_KEYS])
    def test_accepted(self, sdk_requests: dict[str, CapturedRequest], key: str) -> None:
        request = sdk_requests[key].signed()
        assert make_verifier().verify(request, now=stamp_of(request)) == LOCAL_ACCESS_KEY_ID

    @pytest.mark.parametrize("key", SDK_KEYS, ids=SDK_KEYS)
    def test_action_is_found(self, sdk_requests: dict[str, CapturedRequest], key: str) -> None:
        expected = key.split("-")[2].removesuffix("Tags").removesuffix("Empty")
        assert action_of(sdk_requests[key].signed()) == expected

    def test_values_arrive_intact_whatever_the_wire_encoding(
        self, sdk_requests: dict[str, CapturedRequest]
    ) -> None:
        sync = sdk_requests["acs3-sync-RegisterCaCertificate"]
        async_ = sdk_requests["acs3-async-RegisterCaCertificate"]
        # urlencode vs yarl: different bytes on the wire, same decoded values.
        assert sync.raw_query != async_.raw_query
        assert dict(sync.signed().query) == dict(async_.signed().query)
        values = dict(sync.signed().query)
        assert values["CaName"] == "my test CA * ~ü/+=&"
        assert "\n" in values["CaContent"] and values["MqttInstanceId"] == "mqtt-cn-i7m26mf****"

    def test_acs3_async_sends_an_unsigned_content_type(
        self, sdk_requests: dict[str, CapturedRequest]
    ) -> None:
        request = sdk_requests["acs3-async-ListCaCertificate"].signed()
        assert request.headers["content-type"] == "application/octet-stream"
        assert "content-type" not in request.headers["authorization"]

    def test_sm3_is_refused_as_unsupported(self, sdk_requests: dict[str, CapturedRequest]) -> None:
        request = sdk_requests["sm3-sync-ListCaCertificate"].signed()
        error = rejected(make_verifier(), request, INCOMPLETE)
        assert "ACS3-HMAC-SM3" in error.message and "ACS3-HMAC-SHA256" in error.message


class TestTampering:
    def test_fail_changed_parameter(self, register: tuple[str, SignedRequest]) -> None:
        mode, request = register
        rejected(make_verifier(), with_query(request, "CaName", "other ca"), MISMATCH[mode])

    def test_fail_added_parameter(self, register: tuple[str, SignedRequest]) -> None:
        mode, request = register
        rejected(make_verifier(), with_query(request, "PageNo", "1"), MISMATCH[mode])

    def test_fail_removed_parameter(self, register: tuple[str, SignedRequest]) -> None:
        mode, request = register
        rejected(make_verifier(), with_query(request, "CaName", None), MISMATCH[mode])

    def test_fail_changed_method(self, register: tuple[str, SignedRequest]) -> None:
        mode, request = register
        rejected(make_verifier(), dataclasses.replace(request, method="GET"), MISMATCH[mode])

    def test_fail_changed_action(self, register: tuple[str, SignedRequest]) -> None:
        mode, request = register
        if mode == "acs3":
            tampered = with_header(request, "x-acs-action", "DeleteCaCertificate")
        else:
            tampered = with_query(request, "Action", "DeleteCaCertificate")
        rejected(make_verifier(), tampered, MISMATCH[mode])

    def test_fail_acs3_changed_signed_header(self, acs3_register: SignedRequest) -> None:
        rejected(make_verifier(), with_header(acs3_register, "host", "evil:80"), INCOMPLETE)

    def test_fail_acs3_body_without_matching_hash(self, acs3_register: SignedRequest) -> None:
        tampered = dataclasses.replace(acs3_register, body=b"CaName=x")
        error = rejected(make_verifier(), tampered, INCOMPLETE)
        assert "x-acs-content-sha256" in error.message

    def test_fail_acs3_body_with_recomputed_hash(self, acs3_register: SignedRequest) -> None:
        tampered = dataclasses.replace(acs3_register, body=b"x")
        tampered = with_header(tampered, "x-acs-content-sha256", hashlib.sha256(b"x").hexdigest())
        error = rejected(make_verifier(), tampered, INCOMPLETE)
        assert "does not match" in error.message

    def test_fail_acs3_unsigned_x_acs_header(self, acs3_register: SignedRequest) -> None:
        tampered = with_header(acs3_register, "x-acs-security-token", "t")
        error = rejected(make_verifier(), tampered, INCOMPLETE)
        assert "x-acs-security-token" in error.message

    def test_ok_rpc_unsigned_x_acs_header(self, rpc_register: SignedRequest) -> None:
        # RPC v1 signs no header: the SDK itself sends x-acs-action/x-acs-version unsigned.
        assert "x-acs-action" in rpc_register.headers
        tampered = with_header(rpc_register, "x-acs-action", "DeleteCaCertificate")
        assert make_verifier().verify(tampered, now=stamp_of(tampered)) == LOCAL_ACCESS_KEY_ID
        assert action_of(tampered) == "RegisterCaCertificate"  # the signed parameter wins

    def test_fail_rpc_form_body_added(self, rpc_register: SignedRequest) -> None:
        tampered = dataclasses.replace(rpc_register, form=[("Sn", "00ab")])
        rejected(make_verifier(), tampered, SignatureErrorCode.SIGNATURE_DOES_NOT_MATCH)

    def test_ok_extra_unsigned_ordinary_header(self, register: tuple[str, SignedRequest]) -> None:
        _, request = register
        tampered = with_header(request, "x-forwarded-for", "10.0.0.1")
        assert make_verifier().verify(tampered, now=stamp_of(tampered)) == LOCAL_ACCESS_KEY_ID

    def test_fail_wrong_secret(self, register: tuple[str, SignedRequest]) -> None:
        mode, request = register
        verifier = make_verifier({LOCAL_ACCESS_KEY_ID: "wrong-secret"})
        error = rejected(verifier, request, MISMATCH[mode])
        assert sdk_expected_signature(request, "wrong-secret") not in error.message
        assert sdk_expected_signature(request, LOCAL_ACCESS_KEY_SECRET) not in error.message
        assert "server string to sign is" in error.message

    def test_fail_unknown_access_key(self, register: tuple[str, SignedRequest]) -> None:
        _, request = register
        error = rejected(
            make_verifier({"someone-else": "x"}), request, "InvalidAccessKeyId.NotFound"
        )
        assert LOCAL_ACCESS_KEY_ID in error.message

    def test_fail_replayed_nonce(self, register: tuple[str, SignedRequest]) -> None:
        _, request = register
        verifier = make_verifier()
        now = stamp_of(request)
        assert verifier.verify(request, now=now) == LOCAL_ACCESS_KEY_ID
        rejected(verifier, request, SignatureErrorCode.NONCE_USED, now + timedelta(minutes=10))

    def test_ok_forged_copy_does_not_use_up_the_nonce(
        self, register: tuple[str, SignedRequest]
    ) -> None:
        mode, request = register
        verifier = make_verifier()
        rejected(verifier, with_query(request, "CaName", "forged"), MISMATCH[mode])
        assert verifier.verify(request, now=stamp_of(request)) == LOCAL_ACCESS_KEY_ID


class TestClockSkew:
    @pytest.mark.parametrize(
        "offset",
        [SKEW, -SKEW, timedelta(0)],
        ids=["ok/client-15min-behind", "ok/client-15min-ahead", "ok/exact"],
    )
    def test_ok_within_window(self, register: tuple[str, SignedRequest], offset: timedelta) -> None:
        _, request = register
        now = stamp_of(request) + offset
        assert make_verifier().verify(request, now=now) == LOCAL_ACCESS_KEY_ID

    @pytest.mark.parametrize(
        "offset",
        [SKEW + SECOND, -SKEW - SECOND, timedelta(days=1)],
        ids=["fail/client-15min1s-behind", "fail/client-15min1s-ahead", "fail/day-old"],
    )
    def test_fail_outside_window(
        self, register: tuple[str, SignedRequest], offset: timedelta
    ) -> None:
        _, request = register
        now = stamp_of(request) + offset
        error = rejected(make_verifier(), request, SignatureErrorCode.TIMESTAMP_EXPIRED, now)
        assert "15 minutes" in error.message

    def test_fail_naive_now_is_a_programming_error(
        self, register: tuple[str, SignedRequest]
    ) -> None:
        _, request = register
        with pytest.raises(ValueError, match="aware"):
            make_verifier().verify(request, now=datetime(2026, 1, 1))


class TestMalformedAcs3:
    @pytest.fixture
    def request_(self, sdk_requests: dict[str, CapturedRequest]) -> SignedRequest:
        return sdk_requests["acs3-sync-ListCaCertificate"].signed()

    @pytest.mark.parametrize(
        ("authorization", "hint"),
        [
            ("ACS3-HMAC-SHA256", "Credential=<AccessKeyId>"),
            ("ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host", "Signature=<hex>"),
            ("ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host,Signature=a,Extra=1", "must read"),
            ("ACS3-HMAC-SHA256 Credential=k,Credential=k,SignedHeaders=host,Signature=a", "must"),
            ("ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=a", "must read"),
            ("ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host;;accept,Signature=a", "must read"),
            ("ACS3-HMAC-SHA1 Credential=k,SignedHeaders=host,Signature=a", "'ACS3-HMAC-SHA1'"),
            ("ACS3-RSA-SHA256 Credential=k,SignedHeaders=host,Signature=a", "not supported"),
        ],
        ids=[
            "fail/no-fields",
            "fail/no-signature",
            "fail/unknown-field",
            "fail/repeated-field",
            "fail/empty-credential",
            "fail/empty-header-name",
            "fail/unsupported-algorithm-sha1",
            "fail/unsupported-algorithm-rsa",
        ],
    )
    def test_fail_malformed_authorization(
        self, request_: SignedRequest, authorization: str, hint: str
    ) -> None:
        error = rejected(
            make_verifier(), with_header(request_, "authorization", authorization), INCOMPLETE
        )
        assert hint in error.message

    @pytest.mark.parametrize(
        "dropped", ["x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
    )
    def test_fail_required_header_not_signed(self, request_: SignedRequest, dropped: str) -> None:
        authorization = request_.headers["authorization"].replace(f"{dropped};", "")
        authorization = authorization.replace(f";{dropped},", ",")
        tampered = with_header(with_header(request_, dropped, None), "authorization", authorization)
        error = rejected(make_verifier(), tampered, INCOMPLETE, now=stamp_of(request_))
        assert dropped in error.message

    def test_fail_signed_header_missing(self, request_: SignedRequest) -> None:
        error = rejected(make_verifier(), with_header(request_, "user-agent", None), INCOMPLETE)
        assert "user-agent" in error.message

    def test_fail_malformed_date(self, request_: SignedRequest) -> None:
        tampered = with_header(request_, "x-acs-date", "Sat, 28 Nov 2026 10:29:54 GMT")
        now = stamp_of(request_)
        error = rejected(make_verifier(), tampered, SignatureErrorCode.TIMESTAMP_MALFORMED, now)
        assert "YYYY-MM-DDThh:mm:ssZ" in error.message

    def test_fail_repeated_query_parameter(self, request_: SignedRequest) -> None:
        tampered = dataclasses.replace(request_, query=[*request_.query, ("PageNo", "3")])
        error = rejected(make_verifier(), tampered, INCOMPLETE)
        assert "'PageNo' appears more than once" in error.message

    def test_fail_other_authorization_scheme(self, request_: SignedRequest) -> None:
        error = rejected(
            make_verifier(), with_header(request_, "authorization", "Bearer t"), INCOMPLETE
        )
        assert "not supported" in error.message

    def test_fail_not_signed_at_all(self, request_: SignedRequest) -> None:
        unsigned = with_header(request_, "authorization", None)
        error = rejected(make_verifier(), unsigned, SignatureErrorCode.MISSING_SIGNATURE)
        assert "Authorization" in error.message


class TestMalformedRpc:
    @pytest.fixture
    def request_(self, sdk_requests: dict[str, CapturedRequest]) -> SignedRequest:
        return sdk_requests["rpc-sync-ListCaCertificate"].signed()

    @pytest.mark.parametrize(
        "dropped",
        [
            "AccessKeyId",
            "Action",
            "SignatureMethod",
            "SignatureVersion",
            "Timestamp",
            "SignatureNonce",
        ],
    )
    def test_fail_missing_parameter(self, request_: SignedRequest, dropped: str) -> None:
        now = stamp_of(request_)
        error = rejected(make_verifier(), with_query(request_, dropped, None), INCOMPLETE, now)
        assert dropped in error.message

    @pytest.mark.parametrize(
        ("key", "value", "code", "hint"),
        [
            ("SignatureMethod", "HMAC-SHA256", INCOMPLETE, "SignatureMethod=HMAC-SHA1"),
            ("SignatureVersion", "2.0", INCOMPLETE, "SignatureVersion=1.0"),
            ("Timestamp", "2026-11-28 10:29:55", SignatureErrorCode.TIMESTAMP_MALFORMED, "YYYY"),
            ("Timestamp", "2026-13-28T10:29:55Z", SignatureErrorCode.TIMESTAMP_MALFORMED, "YYYY"),
            ("AccessKeyId", "nobody", "InvalidAccessKeyId.NotFound", "nobody"),
        ],
        ids=[
            "fail/hmac-sha256-method",
            "fail/version-2",
            "fail/timestamp-with-space",
            "fail/timestamp-month-13",
            "fail/unknown-access-key",
        ],
    )
    def test_fail_bad_parameter(
        self, request_: SignedRequest, key: str, value: str, code: str, hint: str
    ) -> None:
        now = stamp_of(request_)
        error = rejected(make_verifier(), with_query(request_, key, value), code, now)
        assert hint in error.message

    def test_ok_parameters_in_a_form_body(self, request_: SignedRequest) -> None:
        """Other SDKs may POST the parameters as a form; those count as signed parameters."""
        query = [(k, v) for k, v in request_.query if k in ("Action", "Signature")]
        form = [(k, v) for k, v in request_.query if k not in ("Action", "Signature")]
        moved = dataclasses.replace(request_, query=query, form=form)
        assert make_verifier().verify(moved, now=stamp_of(request_)) == LOCAL_ACCESS_KEY_ID

    def test_fail_repeated_across_query_and_form(self, request_: SignedRequest) -> None:
        tampered = dataclasses.replace(request_, form=[("PageNo", "1")])
        error = rejected(make_verifier(), tampered, INCOMPLETE)
        assert "'PageNo' appears more than once" in error.message


# --- Building blocks ---------------------------------------------------------------------------


class TestParseAccessKeys:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("id:secret", {"id": "secret"}),
            (" a:1 , b:2 ", {"a": "1", "b": "2"}),
            ("a:se:cret", {"a": "se:cret"}),
            (
                f"{LOCAL_ACCESS_KEY_ID}:{LOCAL_ACCESS_KEY_SECRET}",
                {LOCAL_ACCESS_KEY_ID: LOCAL_ACCESS_KEY_SECRET},
            ),
        ],
        ids=["ok/one", "ok/two-with-spaces", "ok/colon-in-secret", "ok/local-default"],
    )
    def test_ok(self, text: str, expected: dict[str, str]) -> None:
        assert parse_access_keys(text) == expected

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("", 1),
            ("topsecretvalue", 1),
            ("a:1,topsecretvalue", 2),
            (":topsecretvalue", 1),
            ("a:", 1),
            ("a:1,,b:2", 2),
            ("a b:topsecretvalue", 1),
            ("a:1,a:topsecretvalue", 2),
        ],
        ids=[
            "fail/empty",
            "fail/no-colon",
            "fail/second-no-colon",
            "fail/no-id",
            "fail/no-secret",
            "fail/empty-entry",
            "fail/space-in-id",
            "fail/repeated-id",
        ],
    )
    def test_fail_names_the_entry_not_the_secret(self, text: str, position: int) -> None:
        with pytest.raises(ValueError, match=f"entry {position} ") as caught:
            parse_access_keys(text)
        assert "topsecretvalue" not in str(caught.value)


class TestSignedRequest:
    def test_normalises_method_and_header_names(self) -> None:
        request = SignedRequest("post", [("A", "1")], headers={"X-Acs-Date": "d"})
        assert request.method == "POST"
        assert request.headers == {"x-acs-date": "d"}
        assert request.query == (("A", "1"),)

    @pytest.mark.parametrize(
        ("content_type", "form"),
        [
            ("application/x-www-form-urlencoded", (("Sn", "a b"), ("Empty", ""))),
            ("application/x-www-form-urlencoded; charset=UTF-8", (("Sn", "a b"), ("Empty", ""))),
            ("application/octet-stream", ()),
            ("application/json", ()),
        ],
    )
    def test_form_pairs_only_for_urlencoded_bodies(
        self, content_type: str, form: tuple[tuple[str, str], ...]
    ) -> None:
        request = SignedRequest.from_http(
            "POST", [], {"Content-Type": content_type}, b"Sn=a+b&Empty="
        )
        assert request.form == form
        assert request.body == b"Sn=a+b&Empty="


class TestActionOf:
    def test_query_action_wins_over_the_header(self) -> None:
        request = SignedRequest("GET", [("Action", "A")], headers={"x-acs-action": "B"})
        assert action_of(request) == "A"

    def test_header_when_no_parameter(self) -> None:
        assert action_of(SignedRequest("GET", [], headers={"x-acs-action": "B"})) == "B"

    def test_form_action(self) -> None:
        assert action_of(SignedRequest("POST", [], form=[("Action", "C")])) == "C"

    def test_none_when_absent_or_empty(self) -> None:
        assert action_of(SignedRequest("GET", [("Action", "")])) is None


class TestNonceCache:
    NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

    def test_second_use_is_seen(self) -> None:
        cache = NonceCache()
        assert not cache.seen_before("ak", "n1", self.NOW)
        assert cache.seen_before("ak", "n1", self.NOW + timedelta(minutes=29))

    def test_nonces_are_per_access_key(self) -> None:
        cache = NonceCache()
        assert not cache.seen_before("ak1", "n1", self.NOW)
        assert not cache.seen_before("ak2", "n1", self.NOW)

    def test_forgotten_after_ttl(self) -> None:
        cache = NonceCache(ttl=timedelta(minutes=30))
        assert not cache.seen_before("ak", "n1", self.NOW)
        assert not cache.seen_before("ak", "n1", self.NOW + timedelta(minutes=30))
        assert len(cache) == 1

    def test_expired_entry_behind_a_newer_one_is_forgotten(self) -> None:
        cache = NonceCache(ttl=timedelta(minutes=30))
        assert not cache.seen_before("ak", "late", self.NOW + timedelta(minutes=10))
        assert not cache.seen_before("ak", "early", self.NOW)  # the clock stepped back
        assert not cache.seen_before("ak", "early", self.NOW + timedelta(minutes=35))

    def test_bounded_oldest_forgotten_first(self) -> None:
        cache = NonceCache(max_entries=2)
        for nonce in ("n1", "n2", "n3"):
            assert not cache.seen_before("ak", nonce, self.NOW)
        assert len(cache) == 2
        assert cache.seen_before("ak", "n3", self.NOW)
        assert not cache.seen_before("ak", "n1", self.NOW)

    def test_exactly_one_of_many_threads_wins(self) -> None:
        cache = NonceCache()
        results: list[bool] = []
        barrier = threading.Barrier(8)

        def use() -> None:
            barrier.wait()
            results.append(cache.seen_before("ak", "n1", self.NOW))

        threads = [threading.Thread(target=use) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] + [True] * 7

    def test_verifier_refuses_a_cache_shorter_than_the_window(self) -> None:
        with pytest.raises(ValueError, match="2 \\* max_skew"):
            RequestVerifier({}, NonceCache(ttl=timedelta(minutes=20)))
