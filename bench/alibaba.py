"""Signed calls to the Alibaba OpenAPI front end (RPC v1, HMAC-SHA1), as the SDK signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from mqtt_ca_registry.config import LOCAL_ACCESS_KEY_ID, LOCAL_ACCESS_KEY_SECRET


def _pct(text: str) -> str:
    return quote(text, safe="~")


def signed_query(action: str, **parameters: str) -> dict[str, str]:
    """The full query string of a GET call to ``action``, signed with the local key pair."""
    query = {
        "Action": action,
        "Version": "2020-04-20",
        "Format": "JSON",
        "AccessKeyId": LOCAL_ACCESS_KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **parameters,
    }
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(query.items()))
    string_to_sign = f"GET&%2F&{_pct(canonical)}"
    key = f"{LOCAL_ACCESS_KEY_SECRET}&".encode()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha1).digest()
    query["Signature"] = base64.b64encode(signature).decode()
    return query
