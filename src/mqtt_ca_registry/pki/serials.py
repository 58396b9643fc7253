"""Certificate serial numbers (Sn): one canonical spelling for every place that takes or shows one.

The canonical form is what ``openssl x509 -noout -serial`` prints, lower-cased: the hexadecimal
digits of the serial's integer value, padded to an even number of digits (``0x1`` -> ``01``,
``0xabc`` -> ``0abc``). Callers may spell an Sn in any case, with ``:`` separators, extra leading
zeros and surrounding whitespace; all spellings of one value resolve to the same canonical Sn.
"""

from __future__ import annotations

import re

from cryptography import x509

from mqtt_ca_registry.errors import CertificateError, ErrorCode, InvalidInputError

#: The product documentation: "The serial number of a CA certificate cannot exceed 128 bytes
#: in size."
MAX_SN_BYTES = 128

_HEX = re.compile(r"[0-9a-fA-F]+")


def _invalid(field: str, problem: str) -> InvalidInputError:
    return InvalidInputError(
        ErrorCode.INVALID_SN,
        f"{field} {problem}; expected a certificate serial number in hexadecimal, any case, "
        f"optionally with ':' separators (e.g. 0A:1B:2C or 0a1b2c), at most {MAX_SN_BYTES} bytes.",
        field=field,
    )


def _hex_of(value: int) -> str:
    digits = format(value, "x")
    return digits if len(digits) % 2 == 0 else "0" + digits


def canonical_sn(value: str, *, field: str = "sn") -> str:
    """Resolve any accepted spelling of a serial number to its canonical lowercase hex form.

    Raises :class:`InvalidInputError` (``INVALID_SN``) naming ``field`` when the text is empty,
    longer than 128 bytes (UTF-8), not hexadecimal, or the value zero.
    """
    # Measure the raw input: the limit protects us before any normalisation work.
    if len(value.encode("utf-8", errors="surrogatepass")) > MAX_SN_BYTES:
        raise _invalid(field, f"is longer than {MAX_SN_BYTES} bytes")
    digits = value.strip().replace(":", "")
    if not digits:
        raise _invalid(field, "is empty")
    # fullmatch on an explicit class: int(x, 16) alone would also take "0x", "_" and signs.
    if not _HEX.fullmatch(digits):
        raise _invalid(field, "is not hexadecimal")
    number = int(digits, 16)
    if number == 0:
        raise _invalid(field, "is zero, which is never a valid certificate serial number")
    return _hex_of(number)


def sn_of(cert: x509.Certificate, *, field: str) -> str:
    """Return the canonical Sn of ``cert``.

    Raises :class:`CertificateError` (``SERIAL_NOT_POSITIVE``) for a zero or negative serial,
    which RFC 5280 forbids and the registry treats as a certificate-content error, and
    (``INVALID_SN``) for a serial too long to be addressed through the API's 128-byte Sn.
    """
    serial = cert.serial_number
    if serial <= 0:
        raise serial_not_positive(field, serial)
    canonical = _hex_of(serial)
    if len(canonical) > MAX_SN_BYTES:
        raise CertificateError(
            ErrorCode.INVALID_SN,
            f"The {field} has a {len(canonical) // 2}-byte serial number; its hexadecimal form "
            f"exceeds the {MAX_SN_BYTES}-byte Sn limit. Reissue it with a shorter serial "
            "(RFC 5280 allows at most 20 bytes).",
            field=field,
        )
    return canonical


def serial_not_positive(
    field: str, serial: int | None, *, what: str | None = None
) -> CertificateError:
    """The error for a certificate whose serial is zero or negative (shared with PEM loading).

    ``what`` names the certificate in the message when it is more precise than ``field``.
    """
    shown = "zero or negative" if serial is None else str(serial)
    return CertificateError(
        ErrorCode.SERIAL_NOT_POSITIVE,
        f"The {what or field} has serial number {shown}; certificate serial numbers must be "
        "positive "
        "(RFC 5280 section 4.1.2.2). Reissue it with a positive serial, e.g. let openssl pick "
        "a random one (-CAcreateserial) or use -set_serial with a positive number.",
        field=field,
    )
