"""Authentication of Alibaba Cloud OpenAPI requests (ACS3-HMAC-SHA256 and RPC v1 HMAC-SHA1).

Pure: the front end builds a :class:`SignedRequest` and calls :meth:`RequestVerifier.verify` with
an explicit ``now``. Never verify against the raw query string: the sync SDK (``urlencode``) and
the async SDK (yarl keeps ``/ * : ,`` literal) encode it differently, so decoded pairs are
re-encoded canonically (docs/alibaba-api.md, "Signatures"). The async SDK also adds an unsigned
``Content-Type: application/octet-stream`` even on GET, so unsigned ordinary headers are fine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, quote

# The setting's parser lives with the setting; re-exported for the front end's callers.
from mqtt_ca_registry.config import parse_access_keys as parse_access_keys

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
DEFAULT_MAX_SKEW = timedelta(minutes=15)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_AUTHORIZATION_SHAPE = (
    "Authorization must read 'ACS3-HMAC-SHA256 Credential=<AccessKeyId>,"
    "SignedHeaders=<name;name;...>,Signature=<hex>'"
)
# Headers an ACS3 signature must cover, or a captured request could be replayed with a new date,
# nonce or body. The SDK signs every header it sets, so requiring these costs it nothing.
_ACS3_REQUIRED_SIGNED = ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")
# Action is required in RPC mode because the SDK's x-acs-action header is not signed there.
_RPC_REQUIRED = (
    "AccessKeyId", "Action", "SignatureMethod", "SignatureVersion", "Timestamp", "SignatureNonce"
)  # fmt: skip


class SignatureErrorCode(StrEnum):
    """Alibaba's codes for authentication failures (docs/alibaba-api.md, "Error codes")."""

    MISSING_SIGNATURE = "MissingSignature"
    INCOMPLETE_SIGNATURE = "IncompleteSignature"  # malformed, or ACS3 signature mismatch
    SIGNATURE_DOES_NOT_MATCH = "SignatureDoesNotMatch"  # RPC v1 signature mismatch
    ACCESS_KEY_NOT_FOUND = "InvalidAccessKeyId.NotFound"
    NONCE_USED = "SignatureNonceUsed"
    TIMESTAMP_EXPIRED = "InvalidTimeStamp.Expired"
    TIMESTAMP_MALFORMED = "InvalidTimeStamp.Format"


class SignatureError(Exception):
    """A request that failed authentication. ``message`` never holds a secret or a signature."""

    def __init__(self, code: SignatureErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = 404 if code is SignatureErrorCode.ACCESS_KEY_NOT_FOUND else 400


def _incomplete(detail: str) -> SignatureError:
    prefix = "The request signature does not conform to Aliyun standards: "
    return SignatureError(SignatureErrorCode.INCOMPLETE_SIGNATURE, prefix + detail)


@dataclass(frozen=True)
class SignedRequest:
    """What authentication needs from an HTTP request, already decoded.

    ``query`` and ``form`` are decoded pairs in arrival order (Starlette's
    ``query_params.multi_items()``); ``form`` only for ``application/x-www-form-urlencoded``
    bodies. ``headers`` maps lowercase names to values. The path is always ``/``.
    """

    method: str
    query: Sequence[tuple[str, str]]
    form: Sequence[tuple[str, str]] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "query", tuple(self.query))
        object.__setattr__(self, "form", tuple(self.form))
        object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})

    @classmethod
    def from_http(
        cls, method: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str], body: bytes
    ) -> SignedRequest:
        """Build one, decoding the body as form pairs when its content type says so."""
        lowered = {k.lower(): v for k, v in headers.items()}
        content_type = lowered.get("content-type", "").split(";")[0].strip().lower()
        form: list[tuple[str, str]] = []
        if content_type == FORM_CONTENT_TYPE and body:
            # Undecodable bytes become U+FFFD, which then cannot match any signature.
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return cls(method, tuple(query), tuple(form), lowered, body)


def action_of(request: SignedRequest) -> str | None:
    """The API action: the ``Action`` parameter (query, then form), else ``x-acs-action``."""
    for key, value in (*request.query, *request.form):
        if key == "Action" and value:
            return value
    return request.headers.get("x-acs-action") or None


class NonceCache:
    """Remembers (AccessKeyId, nonce) pairs long enough to refuse replays.

    A nonce is kept for ``ttl``: 30 minutes, since a timestamp may be 15 minutes off either way.
    At most ``max_entries`` are kept, the oldest forgotten first; only authenticated requests
    are recorded. Per process: with several workers a nonce reused on another worker is not
    caught, which is acceptable for an emulator. A lock and no awaits: thread- and asyncio-safe.
    """

    def __init__(
        self, *, ttl: timedelta = 2 * DEFAULT_MAX_SKEW, max_entries: int = 100_000
    ) -> None:
        if max_entries < 1 or ttl <= timedelta(0):
            raise ValueError("NonceCache needs max_entries >= 1 and a positive ttl")
        self.ttl = ttl
        self.max_entries = max_entries
        self._expiry: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def seen_before(self, access_key_id: str, nonce: str, now: datetime) -> bool:
        """Record the nonce; True when it was already recorded and has not expired."""
        key = (access_key_id, nonce)
        with self._lock:
            while self._expiry and next(iter(self._expiry.values())) <= now:
                self._expiry.popitem(last=False)
            expires = self._expiry.get(key)
            if expires is not None and expires > now:
                return True
            self._expiry.pop(key, None)
            if len(self._expiry) >= self.max_entries:
                self._expiry.popitem(last=False)
            self._expiry[key] = now + self.ttl
            return False


def pct(text: str) -> str:
    """Alibaba's percent-encoding: UTF-8, only ``A-Z a-z 0-9 - _ . ~`` left literal."""
    return quote(text, safe="~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Sorted by key (as the SDK sorts), ``pct(k)=pct(v)`` joined with ``&``."""
    return "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(pairs, key=lambda kv: kv[0]))


def acs3_canonical_request(request: SignedRequest, signed_headers: str) -> str:
    """The ACS3 canonical request (spec 4.1); every header named must be in the request."""
    # Headers in the order SignedHeaders gives; the header block ends in "\n", so an empty line
    # precedes the SignedHeaders line. The SDK signs every header it sets, including user-agent
    # and x-acs-credentials-provider: a proxy rewriting any of them breaks the signature.
    header_block = "".join(
        f"{name}:{request.headers[name.lower()].strip()}\n" for name in signed_headers.split(";")
    )
    return (
        f"{request.method}\n/\n{canonical_query(request.query)}\n{header_block}\n"
        f"{signed_headers}\n{hashlib.sha256(request.body).hexdigest()}"
    )


def rpc_string_to_sign(request: SignedRequest) -> str:
    """The RPC v1 string to sign (spec 4.2): query and form pairs except ``Signature``."""
    pairs = [(k, v) for k, v in (*request.query, *request.form) if k != "Signature"]
    return f"{request.method}&%2F&{pct(canonical_query(pairs))}"


class RequestVerifier:
    """Checks ACS3-HMAC-SHA256 and RPC v1 signatures against configured AccessKey pairs."""

    def __init__(
        self,
        access_keys: Mapping[str, str],
        nonce_cache: NonceCache,
        max_skew: timedelta = DEFAULT_MAX_SKEW,
    ) -> None:
        if nonce_cache.ttl < 2 * max_skew:
            raise ValueError("the nonce cache must remember nonces for at least 2 * max_skew")
        self._access_keys = dict(access_keys)
        self._nonces = nonce_cache
        self._max_skew = max_skew

    def verify(self, request: SignedRequest, *, now: datetime) -> str:
        """Return the authenticated AccessKeyId or raise :class:`SignatureError`.

        Order: shape, AccessKeyId, timestamp, payload, signature, and the nonce last (a forged
        request must not use up a genuine nonce).
        """
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        authorization = request.headers.get("authorization", "").strip()
        if authorization.startswith("ACS3-"):
            return self._verify_acs3(request, authorization, now)
        if any(key == "Signature" for key, _ in (*request.query, *request.form)):
            return self._verify_rpc(request, now)
        if authorization:
            raise _incomplete("the Authorization scheme is not supported; use ACS3-HMAC-SHA256")
        raise SignatureError(
            SignatureErrorCode.MISSING_SIGNATURE,
            "The request is not signed: send an ACS3-HMAC-SHA256 Authorization header or the "
            "RPC Signature, AccessKeyId, Timestamp and SignatureNonce parameters.",
        )

    def _verify_acs3(self, request: SignedRequest, authorization: str, now: datetime) -> str:
        key_id, signed_headers, signature = _parse_authorization(authorization)
        secret = self._secret_for(key_id)
        names = signed_headers.split(";")
        headers = request.headers
        lowered = {name.lower() for name in names}
        for name in _ACS3_REQUIRED_SIGNED:
            if name not in lowered:
                raise _incomplete(f"SignedHeaders must include {name}")
        unsigned = sorted(n for n in headers if n.startswith("x-acs-") and n not in lowered)
        if unsigned:
            raise _incomplete(f"x-acs-* headers must be signed; not signed: {', '.join(unsigned)}")
        absent = [name for name in names if name.lower() not in headers]
        if absent:
            raise _incomplete(f"signed headers missing from the request: {', '.join(absent)}")
        _reject_repeated_parameters(request)
        self._check_timestamp(headers["x-acs-date"], "x-acs-date", now)
        payload_hash = hashlib.sha256(request.body).hexdigest()
        claimed_hash = headers["x-acs-content-sha256"].strip().encode()
        if not hmac.compare_digest(payload_hash.encode(), claimed_hash):
            raise _incomplete("x-acs-content-sha256 is not the hex SHA-256 of the request body")
        canonical_request = acs3_canonical_request(request, signed_headers)
        digest = hashlib.sha256(canonical_request.encode()).hexdigest()
        string_to_sign = f"{ACS3_ALGORITHM}\n{digest}"
        expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise _incomplete(
                "the signature does not match our calculation. Check the AccessKeySecret and "
                "that nothing changed the request after signing. server string to sign is: "
                + string_to_sign
            )
        self._check_nonce(key_id, headers["x-acs-signature-nonce"], now)
        return key_id

    def _verify_rpc(self, request: SignedRequest, now: datetime) -> str:
        _reject_repeated_parameters(request)
        values = dict((*request.query, *request.form))
        missing = [name for name in _RPC_REQUIRED if not values.get(name)]
        if missing:
            raise _incomplete(f"missing RPC signature parameters: {', '.join(missing)}")
        if (values["SignatureMethod"], values["SignatureVersion"]) != ("HMAC-SHA1", "1.0"):
            raise _incomplete("use SignatureMethod=HMAC-SHA1 and SignatureVersion=1.0")
        key_id = values["AccessKeyId"]
        secret = self._secret_for(key_id)
        self._check_timestamp(values["Timestamp"], "Timestamp", now)
        string_to_sign = rpc_string_to_sign(request)
        digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
        if not hmac.compare_digest(base64.b64encode(digest), values["Signature"].encode()):
            raise SignatureError(
                SignatureErrorCode.SIGNATURE_DOES_NOT_MATCH,
                "Specified signature is not matched with our calculation. Check the "
                "AccessKeySecret (the key is the secret followed by '&') and that nothing "
                "changed the request after signing. server string to sign is: " + string_to_sign,
            )
        self._check_nonce(key_id, values["SignatureNonce"], now)
        return key_id

    def _secret_for(self, key_id: str) -> str:
        secret = self._access_keys.get(key_id)
        if secret is None:
            raise SignatureError(
                SignatureErrorCode.ACCESS_KEY_NOT_FOUND,
                f"Specified access key is not found: {key_id[:64]!r}. Use an AccessKeyId "
                "configured in MQTT_CA_REGISTRY_ACCESS_KEYS.",
            )
        return secret

    def _check_timestamp(self, value: str, name: str, now: datetime) -> None:
        value = value.strip()
        try:
            stamp = datetime.strptime(value, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise SignatureError(
                SignatureErrorCode.TIMESTAMP_MALFORMED,
                f"Specified time stamp or date value is not well formatted: {name} must be "
                f"UTC in the form YYYY-MM-DDThh:mm:ssZ, got {value[:40]!r}.",
            ) from None
        if abs(now - stamp) > self._max_skew:
            raise SignatureError(
                SignatureErrorCode.TIMESTAMP_EXPIRED,
                f"Specified time stamp or date value is expired: {name} {value} is more than "
                f"{self._max_skew.total_seconds() / 60:g} minutes from the server time "
                f"{now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}. Fix the client clock and sign again.",
            )

    def _check_nonce(self, key_id: str, nonce: str, now: datetime) -> None:
        if self._nonces.seen_before(key_id, nonce, now):
            raise SignatureError(
                SignatureErrorCode.NONCE_USED,
                "Specified signature nonce was used already: send a fresh random nonce "
                "(x-acs-signature-nonce or SignatureNonce) with every request.",
            )


def _parse_authorization(value: str) -> tuple[str, str, str]:
    """(AccessKeyId, SignedHeaders, Signature) from an ACS3 Authorization header."""
    algorithm, _, rest = value.partition(" ")
    # The SDK can also send ACS3-HMAC-SM3 / ACS3-RSA-SHA256 (Config.signature_algorithm), with
    # x-acs-content-sha256 then holding an SM3 hash; only the default is accepted here.
    if algorithm != ACS3_ALGORITHM:
        raise _incomplete(
            f"signature algorithm {algorithm[:40]!r} is not supported; use {ACS3_ALGORITHM}"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, content = part.strip().partition("=")
        known = name in ("Credential", "SignedHeaders", "Signature") and name not in fields
        if not (equals and known and content.strip()):
            raise _incomplete(_AUTHORIZATION_SHAPE)
        fields[name] = content.strip()
    if len(fields) != 3 or "" in fields["SignedHeaders"].split(";"):
        raise _incomplete(_AUTHORIZATION_SHAPE)
    return fields["Credential"], fields["SignedHeaders"], fields["Signature"]


def _reject_repeated_parameters(request: SignedRequest) -> None:
    # The SDKs build parameters from maps, so a repeated name never comes from them; refusing it
    # leaves no doubt about which value was signed and which one the dispatcher reads.
    seen: set[str] = set()
    for key, _ in (*request.query, *request.form):
        if key in seen:
            raise _incomplete(f"parameter {key[:64]!r} appears more than once; send it once")
        seen.add(key)
