"""uvicorn's HTTP protocol with clear answers to requests it cannot parse.

The Alibaba SDK puts every parameter, PEMs included, in the URL. httptools refuses a URL over
65,535 bytes, and uvicorn then answers a bare text "Invalid HTTP request received.". Here the
same cases get a JSON body that both front ends' clients understand (the SDK reads ``Code`` and
``Message``; REST clients read ``code`` and ``detail``) and that says what to do instead.
"""

from __future__ import annotations

import json
import sys

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from mqtt_ca_registry.alibaba.errors import TABLE as ALIBABA_ERRORS
from mqtt_ca_registry.api.problems import HTTP_STATUS, TYPE_BASE, title_of
from mqtt_ca_registry.errors import ErrorCode
from mqtt_ca_registry.request_context import new_request_id

MAX_URL_BYTES = 65_535  # httptools' limit on a request target


def _error_body(code: ErrorCode, detail: str, request_id: str) -> tuple[int, bytes]:
    """(status, body): the REST problem and the Alibaba error in one JSON object, each front
    end's fields from its own table (before routing, nobody knows which front end it was)."""
    status = HTTP_STATUS[code]
    body = {
        "RequestId": request_id,
        "HostId": "mqtt-ca-registry",
        "Code": ALIBABA_ERRORS[code].code,
        "Message": detail,
        "type": TYPE_BASE + code,
        "title": title_of(status),
        "status": status,
        "code": str(code),
        "detail": detail,
        "request_id": request_id,
    }
    return status, json.dumps(body).encode()


class ClearErrorsHttpToolsProtocol(HttpToolsProtocol):
    """Answers unparseable requests with a JSON error that says what to fix."""

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this inside its `except httptools.HttpParserError` block.
        error = sys.exc_info()[1]
        # A URL refused in uvicorn's on_headers_complete arrives as a callback error whose
        # context is httptools' "url is too long".
        causes = [error, error.__context__] if error is not None else []
        too_long = any(c is not None and "too long" in str(c) for c in causes)
        code = ErrorCode.REQUEST_URI_TOO_LONG if too_long else ErrorCode.MALFORMED_REQUEST
        detail = (
            f"The request URL is over {MAX_URL_BYTES} bytes. Send large parameters (such as "
            "CaContent and VerificationContent) in a form body: POST with Content-Type "
            "application/x-www-form-urlencoded, or use the REST API's JSON body."
            if too_long
            else "The request is not valid HTTP/1.1; check the request line and headers."
        )
        request_id = new_request_id()
        status, body = _error_body(code, detail, request_id)
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"x-request-id: " + request_id.encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
