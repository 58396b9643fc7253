"""Loading certificates from user text, with limits, and refusing pasted private keys.

Every failure is a :class:`CertificateError` that names the field and says what to send
instead; no other exception escapes, whatever the text holds. Messages never echo the input:
it may be a private key pasted by mistake.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mqtt_ca_registry.errors import CertificateError, ErrorCode
from mqtt_ca_registry.pki.der import serial_sign
from mqtt_ca_registry.pki.serials import serial_not_positive

_EXPECTED = "expected a PEM certificate (-----BEGIN CERTIFICATE-----) or base64 DER"
_NO_END = "has a -----BEGIN CERTIFICATE----- line without its END line"

# Any PEM armour whose label ends in PRIVATE KEY: RSA, EC, DSA, ENCRYPTED, OPENSSH, plain PKCS#8.
# Bounded repeats keep the scan linear on hostile input.
_PRIVATE_KEY = re.compile(
    r"-----\s{0,4}BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY\s{0,4}-----", re.IGNORECASE
)
# "X509 CERTIFICATE" is the pre-RFC 7468 label OpenSSL still reads.
_CERT_ARMOUR = re.compile(r"-----(BEGIN|END) (?:X509 )?CERTIFICATE-----")
_ANY_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _error(code: ErrorCode, field: str, message: str) -> CertificateError:
    return CertificateError(code, message, field=field)


def contains_private_key(text: str) -> bool:
    """Tell whether ``text`` holds a ``-----BEGIN ... PRIVATE KEY-----`` block (any case)."""
    return _PRIVATE_KEY.search(text) is not None


def _private_key_error(field: str) -> CertificateError:
    return _error(
        ErrorCode.PRIVATE_KEY_REJECTED,
        field,
        f"{field} contains a private key; never send private keys — send only the certificate "
        "(the -----BEGIN CERTIFICATE----- block). The key was not stored or logged; if it was "
        "sent over an untrusted channel, consider it compromised.",
    )


def check_text_limits(text: str, *, field: str, max_bytes: int) -> None:
    """Refuse empty or oversized input (registration step 2), before any parsing."""
    if not text.strip():
        raise _error(
            ErrorCode.CERTIFICATE_MISSING,
            field,
            f"{field} is empty; paste the certificate file's content "
            "(-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----).",
        )
    # surrogatepass: a str may hold lone surrogates, which plain UTF-8 encoding rejects.
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise _error(
            ErrorCode.INPUT_TOO_LARGE,
            field,
            f"{field} is {size} bytes; the limit is {max_bytes} bytes. Send only the "
            "certificate (the -----BEGIN CERTIFICATE----- block).",
        )


def check_no_private_key(text: str, *, field: str) -> None:
    """Refuse text holding a private key block (registration step 3)."""
    if contains_private_key(text):
        raise _private_key_error(field)


def load_certificates(
    text: str, *, field: str, max_bytes: int, max_count: int
) -> list[x509.Certificate]:
    """Parse one or more certificates: PEM blocks (text around them ignored) or one base64 DER.

    Checks, in order: empty (``CERTIFICATE_MISSING``), over ``max_bytes`` (``INPUT_TOO_LARGE``),
    a private key block (``PRIVATE_KEY_REJECTED``), more than ``max_count`` certificates
    (``CHAIN_TOO_LONG``, counted before parsing so a flood costs nothing), then parsing
    (``CERTIFICATE_MALFORMED``, or ``SERIAL_NOT_POSITIVE`` for a zero or negative serial).
    """
    chain = decode_chain(text, field=field, max_bytes=max_bytes, max_count=max_count)
    return parse_chain(chain, field=field)


@dataclass(frozen=True)
class EncodedChain:
    """The DER encodings of the certificates a text holds, not parsed yet."""

    ders: tuple[bytes, ...]
    bare: bool  # one bare base64 DER rather than PEM (a DER private key has no label to spot)


def decode_chain(text: str, *, field: str, max_bytes: int, max_count: int) -> EncodedChain:
    """The checks of :func:`load_certificates` that need no X.509 parsing, and the DER bytes.

    A caller that has seen these exact bytes before (a cache keyed on them) can skip the
    parsing; :func:`parse_chain` finishes the job, with the errors load_certificates raises.
    """
    check_text_limits(text, field=field, max_bytes=max_bytes)
    check_no_private_key(text, field=field)
    pieces, bare = _split(text, field=field)
    _check_count(len(pieces), field=field, max_count=max_count)
    ders: list[bytes] = []
    for position, piece in enumerate(pieces):
        where = _where(field, position, len(pieces))
        try:
            der = _decode(piece, field=field, where=where)
        except CertificateError:
            # Certificates are reported in order: an earlier one that does not parse first.
            parse_chain(EncodedChain(tuple(ders), bare), field=field, total=len(pieces))
            raise
        ders.append(der)
    return EncodedChain(tuple(ders), bare)


def der_chain(ders: Sequence[bytes], *, field: str, max_bytes: int, max_count: int) -> EncodedChain:
    """A chain given as DER encodings (as a TLS handshake carries it, leaf first), with the
    checks :func:`decode_chain` makes of text: present, within ``max_bytes`` in all, at most
    ``max_count`` certificates, positive serials."""
    if not ders:
        raise _error(
            ErrorCode.CERTIFICATE_MISSING,
            field,
            f"{field} is empty; present the device certificate, then any intermediates.",
        )
    size = sum(len(der) for der in ders)
    if size > max_bytes:
        raise _error(
            ErrorCode.INPUT_TOO_LARGE,
            field,
            f"{field} is {size} bytes of DER; the limit is {max_bytes} bytes.",
        )
    _check_count(len(ders), field=field, max_count=max_count)
    for position, der in enumerate(ders):
        if serial_sign(der) in (-1, 0):
            where = _where(field, position, len(ders))
            raise serial_not_positive(field, None, what=where)
    return EncodedChain(tuple(bytes(der) for der in ders), bare=False)


def _check_count(count: int, *, field: str, max_count: int) -> None:
    if count > max_count:
        raise _error(
            ErrorCode.CHAIN_TOO_LONG,
            field,
            f"{field} holds {count} certificates; at most {max_count} are accepted. "
            "Send the certificate first, then only the intermediate CAs needed to reach a "
            "registered CA.",
        )


def parse_chain(
    chain: EncodedChain, *, field: str, total: int | None = None
) -> list[x509.Certificate]:
    """Parse what :func:`decode_chain` returned (``CERTIFICATE_MALFORMED`` if one does not)."""
    total = total or len(chain.ders)
    return [
        _parse(der, field=field, where=_where(field, position, total), bare=chain.bare)
        for position, der in enumerate(chain.ders)
    ]


def load_single_certificate(text: str, *, field: str, max_bytes: int) -> x509.Certificate:
    """Parse exactly one certificate; two or more are ``CERTIFICATE_NOT_SINGLE``."""
    check_text_limits(text, field=field, max_bytes=max_bytes)
    check_no_private_key(text, field=field)
    pieces, bare = _split(text, field=field)
    if len(pieces) != 1:
        raise _error(
            ErrorCode.CERTIFICATE_NOT_SINGLE,
            field,
            f"{field} holds {len(pieces)} certificates; send exactly one "
            "(a single -----BEGIN CERTIFICATE----- block).",
        )
    where = _where(field, 0, 1)
    return _parse(_decode(pieces[0], field=field, where=where), field=field, where=where, bare=bare)


def to_pem(cert: x509.Certificate) -> str:
    """Return ``cert`` as normalised PEM text (64-column base64, ``\\n`` line ends)."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def der_to_pem(der: bytes) -> str:
    """The PEM text :func:`to_pem` gives for the certificate whose DER encoding is ``der``.

    For a caller that already holds the DER: cryptography's PEM output re-encodes the whole
    certificate again.
    """
    encoded = base64.b64encode(der).decode("ascii")
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _malformed(field: str, detail: str, *, what: str | None = None) -> CertificateError:
    return _error(ErrorCode.CERTIFICATE_MALFORMED, field, f"{what or field} {detail}; {_EXPECTED}.")


def _split(text: str, *, field: str) -> tuple[list[str], bool]:
    """Split the text into base64 pieces, one per certificate, without decoding them (so they
    can be counted first); True when the text is bare base64 rather than PEM."""
    bodies = _pem_bodies(text, field=field)
    if bodies:
        return bodies, False
    other = _ANY_BEGIN.search(text)
    if other is not None:
        label = other.group(1).strip()
        hint = ""
        if "REQUEST" in label:
            hint = " (a certificate signing request: send the signed .crt instead)"
        # The label is short, upper-case PEM armour text, never key material.
        raise _malformed(field, f"holds a '{label}' block, not a certificate{hint}")
    return [text], True


def _pem_bodies(text: str, *, field: str) -> list[str]:
    """The base64 bodies of the CERTIFICATE blocks, pairing BEGIN and END lines in one pass.

    One linear scan: a lazy BEGIN...END regex would rescan the text for every unmatched BEGIN,
    which is quadratic on hostile input.
    """
    bodies: list[str] = []
    start: int | None = None
    for armour in _CERT_ARMOUR.finditer(text):
        if armour.group(1) == "BEGIN":
            if start is not None:  # a BEGIN inside an open block: its END is missing
                raise _malformed(field, _NO_END)
            start = armour.end()
        elif start is not None:
            bodies.append(text[start : armour.start()])
            start = None
    if start is not None:
        raise _malformed(field, _NO_END)
    return bodies


def _decode_base64(body: str, *, field: str, what: str) -> bytes:
    # str.split() drops exactly the characters a regex \s matches, several times faster.
    compact = "".join(body.split())
    if not compact or not _BASE64.fullmatch(compact):
        raise _malformed(field, "is not valid PEM or base64", what=what)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed(field, "is not valid base64", what=what) from None


def _is_der_private_key(der: bytes) -> bool:
    """A base64 DER private key has no PEM label to spot, so ask the parser what the bytes are."""
    try:
        # Skipping RSA validation keeps this cheap; we only need to know what the bytes are.
        serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        return True  # an encrypted private key: it parsed far enough to ask for a password
    except Exception:
        return False
    return True


def _where(field: str, position: int, total: int) -> str:
    return field if total == 1 else f"{field} (certificate {position + 1} of {total})"


def _decode(piece: str, *, field: str, where: str) -> bytes:
    der = _decode_base64(piece, field=field, what=where)
    # cryptography warns about (and will one day refuse) non-positive serials; decide first.
    if serial_sign(der) in (-1, 0):
        raise serial_not_positive(field, None, what=where)
    return der


def _parse(der: bytes, *, field: str, where: str, bare: bool) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except Exception:
        if bare and _is_der_private_key(der):
            raise _private_key_error(field) from None
        raise _malformed(field, "is not a parseable X.509 certificate", what=where) from None
